package hrana

import "testing"

// The request an oversized WebSocket message answers is read from its
// first bytes only when it comes before the answer itself.
func TestMessageRequestID(t *testing.T) {
	for _, c := range []struct {
		head string
		id   int32
		ok   bool
	}{
		{`{"type":"response_ok","request_id":7,"response":{"type":"execute","result":{"cols":[`, 7, true},
		{` { "request_id" : 12 , "type":"response_ok","response":{`, 12, true},
		{`{"type":"response_error","request_id":3,"error":{"message":"x"}}`, 3, true},
		{`{"type":"response_ok","response":{"type":"execute"},"request_id":7}`, 0, false},
		{`{"type":"response_ok","request_id":7.5,"response":{`, 0, false},
		{`{"type":"response_ok","request_id":"7","response":{`, 0, false},
		{`{"type":"response_ok","request_id":99999999999,"response":{`, 0, false},
		{`{"type":"response_ok","request_`, 0, false},
		{`["request_id",7]`, 0, false},
		{``, 0, false},
	} {
		id, ok := messageRequestID([]byte(c.head))
		if id != c.id || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.head, id, ok, c.id, c.ok)
		}
	}
}
