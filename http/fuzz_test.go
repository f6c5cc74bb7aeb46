package http_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/pricing"
)

// receiptSeeds are a valid receipt and broken ones; the files under
// testdata/fuzz/FuzzDecodeReceipt hold more, and every crash found.
var receiptSeeds = []string{
	`{"receipt_id":"r-1","store_id":"s-1","card_number":"2000 0000 0000 0008","occurred_at":"2026-11-23T10:15:00+03:00",` +
		`"lines":[{"line":1,"sku":"milk","category":"dairy","quantity":"2","price":5000,"amount":10000},` +
		`{"line":2,"sku":"cheese","quantity":"0.455","price":120000,"amount":54600}],"spend_points":30,"total":64600}`,
	`{"receipt_id":"r-2","store_id":"s-1","member_id":"m-1","lines":[{"line":1,"sku":"a","quantity":1,"price":1,"amount":1}]}`,
	``,
	`{`,
	`null`,
	`[]`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[]} trailing`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[{"line":1,"sku":"a","quantity":"1","price":1,"amount":1}]}]`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[{"line":1,"sku":"a","quantity":"-1","price":1,"amount":1}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[{"line":1,"sku":"a","quantity":"1.2345","price":1,"amount":1}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[{"line":1,"sku":"a","quantity":"abc","price":"1","amount":1}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","lines":[{"line":1,"sku":"a","quantity":"3","price":3333,"amount":10000}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","total":5,"lines":[{"line":1,"sku":"a","quantity":"1","price":1,"amount":1},{"line":1,"sku":"b","quantity":"1","price":1,"amount":1}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","member_id":"m","spend_points":-1,"lines":[{"colour":"red"}]}`,
	`{"receipt_id":"r","store_id":"s","card_number":"123456","spend_points":9223372036854775807,"lines":[{"line":1,"sku":"a","quantity":"1000000","price":100000000000,"amount":100000000000}]}`,
}

// fuzzNow is the clock of the fuzz tests.
var fuzzNow = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

// refusal checks that err is a domain error a client is to blame for.
func refusal(t *testing.T, err error) {
	t.Helper()
	var e *kopilka.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *kopilka.Error", err, err)
	}
	if s := khttp.StatusOf(err); s < 400 || s > 499 {
		t.Fatalf("error %v has status %d, want 4xx", err, s)
	}
	if e.Code == kopilka.EINVALID {
		if len(e.Fields) == 0 {
			t.Fatalf("invalid-field error %v names no field", err)
		}
		for _, f := range e.Fields {
			if f.Field == "" || f.Detail == "" {
				t.Fatalf("invalid-field error %v has a field error without field or detail: %+v", err, f)
			}
		}
	}
}

func FuzzDecodeReceipt(f *testing.F) {
	for _, s := range receiptSeeds {
		f.Add([]byte(s))
	}
	p := kopilka.DefaultProgramme()
	p.MaxReceiptPoints = kopilka.PointsCeiling // the arithmetic, not the cap, is under test
	const balance = 1 << 50                    // more than any receipt may spend
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := khttp.DecodeReceipt(body)
		if err != nil {
			refusal(t, err)
			return
		}
		if err := r.Validate(fuzzNow); err != nil {
			refusal(t, err)
			return
		}

		// Confirm hashes every valid receipt; the hash is of its JSON, which
		// must read back as the same receipt.
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Fatalf("Hash of a valid receipt panics, so Confirm would: %v", v)
				}
			}()
			_ = r.Hash()
		}()
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("a valid receipt does not marshal: %v", err)
		}
		back, err := khttp.DecodeReceipt(b)
		if err != nil {
			t.Fatalf("the receipt's own JSON %s is refused: %v", b, err)
		}
		if err := back.Validate(fuzzNow); err != nil {
			t.Fatalf("the receipt's own JSON %s is invalid: %v", b, err)
		}
		if !back.OccurredAt.Equal(r.OccurredAt) {
			t.Fatalf("occurred_at %v read back as %v", r.OccurredAt, back.OccurredAt)
		}
		back.OccurredAt = r.OccurredAt
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("the receipt's own JSON reads back as another receipt:\n%+v\n%+v", r, back)
		}

		q, err := pricing.PriceReceipt(p, r, balance)
		if err != nil {
			code := kopilka.ErrorCode(err)
			if code != kopilka.ESPENDLIMIT && code != kopilka.EINSUFFICIENT {
				t.Fatalf("Price of a valid receipt: %v", err)
			}
			refusal(t, err)
			var e *kopilka.Error
			errors.As(err, &e)
			if max, ok := e.Extra["max_spend"].(int64); !ok || max >= r.SpendPoints || max < 0 {
				t.Fatalf("refused %d points with max_spend %v", r.SpendPoints, e.Extra["max_spend"])
			}
			// The most the till is told it may spend must be accepted.
			r.SpendPoints = e.Extra["max_spend"].(int64)
			if q, err = pricing.PriceReceipt(p, r, balance); err != nil {
				t.Fatalf("Price refuses max_spend %d it offered: %v", r.SpendPoints, err)
			}
		}
		checkQuote(t, p, r, q)
	})
}

// checkQuote checks that a quote's lines add up to its totals.
func checkQuote(t *testing.T, p kopilka.Programme, r kopilka.Receipt, q kopilka.Quote) {
	t.Helper()
	if len(q.Lines) != len(r.Lines) {
		t.Fatalf("%d quote lines for %d receipt lines", len(q.Lines), len(r.Lines))
	}
	var total, earned, spent, paid int64
	for i, l := range q.Lines {
		if l.Line != r.Lines[i].Line {
			t.Fatalf("quote line %d is receipt line %d", l.Line, r.Lines[i].Line)
		}
		if l.Paid < 0 || l.Earned < 0 || l.Spent < 0 {
			t.Fatalf("line %d: paid %d earned %d spent %d; none may be negative", l.Line, l.Paid, l.Earned, l.Spent)
		}
		if l.Paid != r.Lines[i].Amount-l.Spent*p.PointValue {
			t.Fatalf("line %d: paid %d, want amount %d less %d points", l.Line, l.Paid, r.Lines[i].Amount, l.Spent)
		}
		total += r.Lines[i].Amount
		earned += l.Earned
		spent += l.Spent
		paid += l.Paid
	}
	if q.Total != total || q.Earned != earned || q.Spent != spent || q.Paid != paid {
		t.Fatalf("quote totals %d/%d/%d/%d (total/earned/spent/paid), lines sum to %d/%d/%d/%d",
			q.Total, q.Earned, q.Spent, q.Paid, total, earned, spent, paid)
	}
	if q.Spent != r.SpendPoints || q.Spent > q.MaxSpend {
		t.Fatalf("spent %d of %d asked, max_spend %d", q.Spent, r.SpendPoints, q.MaxSpend)
	}
	if q.Paid != q.Total-q.Spent*p.PointValue {
		t.Fatalf("paid %d, want total %d less %d points", q.Paid, q.Total, q.Spent)
	}
}
