package vector

import "math"

// toFloat16 converts x to IEEE half precision the way libSQL's vector16
// does, so that a vector written here and one written by SQL are the same
// bytes: round to nearest, ties to even, on the mantissa as it stands
// after the shift for subnormals (bits shifted out do not count), and
// anything below 2^-24 is zero. ok is false when x does not fit (its
// magnitude rounds past 65504).
func toFloat16(x float32) (h uint16, ok bool) {
	bits := math.Float32bits(x)
	sign := bits >> 16 & 0x8000
	exp := int(bits>>23&0xff) - 127
	mant := bits & 0x7fffff
	switch {
	case exp > 15: // too large, infinite or NaN
		return uint16(sign | 0x7c00), false
	case exp < -25: // zero, or too small
		exp, mant = -15, 0
	case exp < -14: // a subnormal half: the implicit 1 becomes explicit
		mant = (mant | 0x800000) >> uint(-exp-14)
		exp = -15
	}
	if mant&0x1fff > 0x1000-(mant>>13&1) {
		mant += 0x2000
	}
	m := mant >> 13
	h = uint16(sign | uint32(exp+15+int(m>>10))<<10 | m&0x3ff)
	return h, h&0x7c00 != 0x7c00
}

// fromFloat16 converts a half-precision number to float32, exactly.
func fromFloat16(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := int(h >> 10 & 0x1f)
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // infinite or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalize
		e := -14
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | uint32(e+127)<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | mant<<13)
}
