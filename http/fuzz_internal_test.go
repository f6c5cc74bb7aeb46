package http

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/kopilka/kopilka"
)

// FuzzDecodeRefund checks the refund decoder, which is not exported: it
// refuses only with a client's error, and what it accepts reads back the
// same from its own JSON (the refund's idempotency hash is of that JSON).
func FuzzDecodeRefund(f *testing.F) {
	for _, s := range []string{
		`{"refund_id":"rf-1","lines":[{"line":1,"quantity":"1"},{"line":2,"quantity":0.455},{"line":3}]}`,
		`{"refund_id":"rf-2"}`,
		`{"refund_id":"rf-3","lines":[{"line":1,"quantity":null}]}`,
		``,
		`{`,
		`null`,
		`[]`,
		`{"refund_id":"rf"} {}`,
		`{"refund_id":"rf"}]`,
		`{"refund_id":1}`,
		`{"lines":[{"quantity":"-1"}]}`,
		`{"refund_id":"rf","lines":[{"line":1,"quantity":"1.0001"}]}`,
		`{"refund_id":"rf","lines":[{"line":"1","quantity":"abc"}]}`,
		`{"refund_id":"rf","lines":{"line":1}}`,
		`{"refund_id":"rf","reason":"broken"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeRefund(body)
		if err != nil {
			var e *kopilka.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *kopilka.Error", err, err)
			}
			if s := StatusOf(err); s < 400 || s > 499 {
				t.Fatalf("error %v has status %d, want 4xx", err, s)
			}
			if e.Code == kopilka.EINVALID && len(e.Fields) == 0 {
				t.Fatalf("invalid-field error %v names no field", err)
			}
			for _, fe := range e.Fields {
				if fe.Field == "" || fe.Detail == "" {
					t.Fatalf("error %v has a field error without field or detail: %+v", err, fe)
				}
			}
			return
		}
		for i, l := range req.Lines {
			if l.Quantity != nil && *l.Quantity < 0 {
				t.Fatalf("line %d: negative quantity %d accepted", i, *l.Quantity)
			}
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("marshal %+v: %v", req, err)
		}
		back, err := decodeRefund(b)
		if err != nil {
			t.Fatalf("the refund's own JSON %s is refused: %v", b, err)
		}
		if !reflect.DeepEqual(back, req) {
			t.Fatalf("the refund's own JSON reads back as another refund:\n%+v\n%+v", req, back)
		}
	})
}
