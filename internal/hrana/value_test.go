package hrana

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestValueRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		wire string
	}{
		{"null", nil, `{"type":"null"}`},
		{"nil blob is null", []byte(nil), `{"type":"null"}`},
		{"zero", int64(0), `{"type":"integer","value":"0"}`},
		{"max int64", int64(math.MaxInt64), `{"type":"integer","value":"9223372036854775807"}`},
		{"min int64", int64(math.MinInt64), `{"type":"integer","value":"-9223372036854775808"}`},
		{"float", 1.5, `{"type":"float","value":1.5}`},
		{"float shortest exact", 0.1, `{"type":"float","value":0.1}`},
		{"float large", 1e300, `{"type":"float","value":1e+300}`},
		{"float smallest", math.SmallestNonzeroFloat64, `{"type":"float","value":5e-324}`},
		{"negative zero", math.Copysign(0, -1), `{"type":"float","value":-0}`},
		{"text", "héllo", `{"type":"text","value":"héllo"}`},
		{"text with NUL and controls", "a\x00b\n\t\"\\\x1f", `{"type":"text","value":"a\u0000b\n\t\"\\\u001f"}`},
		{"emoji", "🙂👍🏽", `{"type":"text","value":"🙂👍🏽"}`},
		{"empty text", "", `{"type":"text","value":""}`},
		{"empty blob", []byte{}, `{"type":"blob","base64":""}`},
		{"blob", []byte{0, 1, 2, 255}, `{"type":"blob","base64":"AAEC/w=="}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := appendValue(nil, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.wire {
				t.Fatalf("encoded %s, want %s", b, tt.wire)
			}
			var v Value
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			want := tt.in
			if bb, ok := want.([]byte); ok && bb == nil {
				want = nil
			}
			if !reflect.DeepEqual(v.V, want) {
				t.Fatalf("decoded %#v, want %#v", v.V, want)
			}
			if f, ok := want.(float64); ok && math.Signbit(f) != math.Signbit(v.V.(float64)) {
				t.Fatalf("sign of zero lost")
			}
		})
	}
}

func TestValueEncodeRefuses(t *testing.T) {
	for name, v := range map[string]any{
		"NaN":          math.NaN(),
		"+Inf":         math.Inf(1),
		"-Inf":         math.Inf(-1),
		"invalid utf8": "a\xffb",
		"unknown type": struct{}{},
	} {
		if _, err := appendValue(nil, v); err == nil {
			t.Errorf("%s: encoded without error", name)
		}
	}
}

func TestValueDecode(t *testing.T) {
	tests := []struct {
		wire    string
		want    any
		wantErr string
	}{
		{`{"type":"blob","base64":"AAE"}`, []byte{0, 1}, ""}, // sqld sends no padding
		{`{"type":"blob","base64":"AAE="}`, []byte{0, 1}, ""},
		{`{"type":"blob","base64":""}`, []byte{}, ""},
		{`{"type":"integer","value":"-1","extra":{"a":[1]}}`, int64(-1), ""}, // unknown fields are ignored
		{`{"type":"float","value":3}`, float64(3), ""},
		{`{"type":"float","value":null}`, nil, "non-finite"},
		{`{"type":"float","value":"1.5"}`, nil, "not a JSON number"},
		{`{"type":"integer","value":"9223372036854775808"}`, nil, "not a 64-bit"},
		{`{"type":"integer","value":12}`, nil, "not a JSON string"},
		{`{"type":"text","value":5}`, nil, "not a JSON string"},
		{`{"type":"blob","base64":"!!"}`, nil, "not valid base64"},
		{`{"type":"blob"}`, nil, "without base64"},
		{`{"type":"date","value":"x"}`, nil, "unknown value type"},
		{`[]`, nil, "malformed"},
	}
	for _, tt := range tests {
		var v Value
		err := json.Unmarshal([]byte(tt.wire), &v)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", tt.wire, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(v.V, tt.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tt.wire, v.V, err, tt.want)
		}
	}
}

// TestParseValue checks the fast path on what sqld sends, and that it
// leaves every other form to encoding/json.
func TestParseValue(t *testing.T) {
	tests := []struct {
		wire string
		want any
		ok   bool
	}{
		{`{"type":"null"}`, nil, true},
		{`{"type":"integer","value":"-9223372036854775808"}`, int64(math.MinInt64), true},
		{`{"type":"float","value":1e+300}`, 1e300, true},
		{`{"type":"float","value":2.0}`, 2.0, true},
		{`{"type":"text","value":"héllo"}`, "héllo", true},
		{`{"type":"text","value":"a\"b\\c\u00e9\n"}`, "a\"b\\cé\n", true},
		{`{"type":"text","value":""}`, "", true},
		{`{"type":"blob","base64":"AP8"}`, []byte{0, 255}, true},
		{`{"type":"integer","value":"9223372036854775808"}`, nil, false}, // the error comes from encoding/json
		{`{"type":"float","value":null}`, nil, false},
		{`{"type":"float","value":"1.5"}`, nil, false},
		{`{"type":"float","value":01}`, nil, false},
		{`{"type":"text","value":"a` + "\x01" + `"}`, nil, false},
		{`{"value":"1","type":"integer"}`, nil, false},
		{`{ "type":"null"}`, nil, false},
		{`{"type":"integer","value":"1","extra":1}`, nil, false},
	}
	for _, tt := range tests {
		v, n, ok := parseValue([]byte(tt.wire))
		if ok != tt.ok || ok && (n != len(tt.wire) || !reflect.DeepEqual(v, tt.want)) {
			t.Errorf("%s: got %#v, %d, %v; want %#v, %v", tt.wire, v, n, ok, tt.want, tt.ok)
		}
	}
	row, ok := parseRow([]byte(`{"type":"row","row":[{"type":"integer","value":"1"},{"type":"null"}]}` + "\n"))
	if !ok || !reflect.DeepEqual(row, []Value{{int64(1)}, {nil}}) {
		t.Errorf("row: %#v, %v", row, ok)
	}
	for _, line := range []string{`{"type":"row","row":[{"type":"null"},]}`, `{"type":"row","row":[]} x`, `{"type":"row","row":[{"type":"null"}{"type":"null"}]}`} {
		if _, ok := parseRow([]byte(line)); ok {
			t.Errorf("%s: parsed", line)
		}
	}
}

// FuzzValue checks that decoding never panics, that the fast path agrees
// with encoding/json wherever it answers, and that whatever decodes
// encodes again and decodes to the same value.
func FuzzValue(f *testing.F) {
	for _, s := range []string{
		`{"type":"null"}`, `{"type":"integer","value":"-9223372036854775808"}`,
		`{"type":"float","value":1e308}`, `{"type":"text","value":"\u0000é"}`,
		`{"type":"blob","base64":"AAEC"}`, `{"type":"float","value":null}`,
		`{"type":"text","value":"a\"\\b"}`, `{"type":"float","value":-0}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, n, ok := parseValue(data); ok {
			slow, err := decodeValue(data[:n])
			if err != nil {
				t.Fatalf("fast path decoded %s as %#v; encoding/json says %v", data[:n], fast, err)
			}
			if !sameValue(fast, slow) {
				t.Fatalf("fast path decoded %s as %#v; encoding/json as %#v", data[:n], fast, slow)
			}
			row, ok := parseRow([]byte(rowPrefix + string(data[:n]) + "]}\n"))
			if !ok || len(row) != 1 || !sameValue(row[0].V, slow) {
				t.Fatalf("row of %s: %#v, %v", data[:n], row, ok)
			}
		}
		var v Value
		if json.Unmarshal(data, &v) != nil {
			return
		}
		b, err := appendValue(nil, v.V)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", v.V, err)
		}
		var back Value
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("re-decode of %s: %v", b, err)
		}
		if bb, ok := v.V.([]byte); ok {
			if !bytes.Equal(bb, back.V.([]byte)) {
				t.Fatalf("blob changed")
			}
			return
		}
		if !reflect.DeepEqual(v.V, back.V) {
			t.Fatalf("round trip changed %#v to %#v", v.V, back.V)
		}
	})
}

// sameValue is reflect.DeepEqual that also tells -0 from 0.
func sameValue(a, b any) bool {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); !ok || math.Signbit(fa) != math.Signbit(fb) {
			return false
		}
	}
	return reflect.DeepEqual(a, b)
}
