package vector

import (
	"encoding/binary"
	"fmt"
	"math"
)

// encodeF8 quantizes v as libSQL's vector8 does: shift is the smallest
// component, alpha the range over 255, and each component the nearest of
// the 256 steps, computed in float32 as libSQL computes it. A vector of
// equal components has alpha 0 and every step 0 (libSQL's 0/0 lands
// there on the platforms it ships for). Components whose range exceeds
// float32's are an error: libSQL would store an infinite step that reads
// back as NaN in every component.
func encodeF8(v []float32) ([]byte, error) {
	dims := len(v)
	b := make([]byte, f8BlobLen(dims))
	var lo, hi float32
	for i, x := range v {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	shift := lo
	alpha := (hi - lo) / 255
	if math.IsInf(float64(alpha), 0) {
		return nil, fmt.Errorf("vector: a float8 vector's components span %g to %g, beyond float32's range", lo, hi)
	}
	for i, x := range v {
		q := (x - shift) / alpha
		switch {
		case q != q: // NaN
			b[i] = 0
		case q < 0:
			b[i] = 0
		case q > 255:
			b[i] = 255
		default:
			b[i] = byte(float64(q) + 0.5)
		}
	}
	at := align4(dims)
	binary.LittleEndian.PutUint32(b[at:], math.Float32bits(alpha))
	binary.LittleEndian.PutUint32(b[at+4:], math.Float32bits(shift))
	b[len(b)-2] = byte(at - dims)
	b[len(b)-1] = byte(F8)
	return b, nil
}

func f8Params(b []byte, dims int) (alpha, shift float32) {
	at := align4(dims)
	return math.Float32frombits(binary.LittleEndian.Uint32(b[at:])),
		math.Float32frombits(binary.LittleEndian.Uint32(b[at+4:]))
}
