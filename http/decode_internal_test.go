package http

import (
	"testing"

	"github.com/kopilka/kopilka"
)

// TestDecodeReceipt_NamesTheLineAtFault checks that a wrong type or an
// unknown field inside a line is reported with the line's index.
func TestDecodeReceipt_NamesTheLineAtFault(t *testing.T) {
	for _, c := range []struct{ body, field string }{
		{`{"receipt_id":"r","store_id":"s","member_id":"m","lines":[{"line":1,"sku":"a","quantity":"1","price":1,"amount":1},{"line":2,"sku":"b","quantity":"1","price":"12.5","amount":1}]}`, "lines[1].price"},
		{`{"receipt_id":"r","store_id":"s","member_id":"m","lines":[{"line":1,"sku":"a","quantity":"1","price":1,"amount":1,"amout":2}]}`, "lines[0].amout"},
		{`{"receipt_id":"r","store_id":"s","member_id":"m","lines":[7]}`, "lines[0]"},
		{`{"receipt_id":"r","store_id":"s","member_id":"m","lines":[{"line":1,"sku":"a","quantity":"1.0001","price":1,"amount":1}]}`, "lines[0].quantity"},
	} {
		_, err := DecodeReceipt([]byte(c.body))
		e, ok := err.(*kopilka.Error)
		if !ok || e.Code != kopilka.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != c.field {
			t.Errorf("%s\n  err = %v, want invalid-field on %s", c.body, err, c.field)
		}
	}
}
