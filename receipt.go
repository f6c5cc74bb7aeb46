package kopilka

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a receipt, so that no product of its numbers overflows.
const (
	MaxLines      = 1000
	MaxLineAmount = 100_000_000_000 // 1e11 minor units: a billion roubles
	MaxQuantity   = 1_000_000 * QuantityScale
	MaxIDLength   = 128
)

// Receipt is what a till sends to quote or confirm a purchase.
type Receipt struct {
	ReceiptID   string    `json:"receipt_id"`
	StoreID     string    `json:"store_id"`
	CardNumber  string    `json:"card_number,omitempty"`
	MemberID    string    `json:"member_id,omitempty"`
	OccurredAt  time.Time `json:"occurred_at"`
	Lines       []Line    `json:"lines"`
	SpendPoints int64     `json:"spend_points"`
	// Total, when given, must equal the sum of the lines' amounts.
	Total *int64 `json:"total,omitempty"`
}

// Line is one line of a receipt. Amount is what the line costs after the
// shop's own discounts, in minor units; it may not exceed quantity × price.
type Line struct {
	Line     int      `json:"line"`
	SKU      string   `json:"sku"`
	Category string   `json:"category,omitempty"`
	Quantity Quantity `json:"quantity"`
	Price    int64    `json:"price"`
	Amount   int64    `json:"amount"`
}

// Quote is the priced receipt: what the member earns and spends, line by line.
// The confirmation of a purchase is a Quote too.
type Quote struct {
	ReceiptID string      `json:"receipt_id"`
	MemberID  string      `json:"member_id"`
	Total     int64       `json:"total"`
	Earned    int64       `json:"earned"`
	Spent     int64       `json:"spent"`
	MaxSpend  int64       `json:"max_spend"`
	Paid      int64       `json:"paid"` // money left to pay after points
	Lines     []QuoteLine `json:"lines"`
	Balance   Balance     `json:"balance"`
	Status    string      `json:"status,omitempty"`
}

// QuoteLine is the part of a quote for one receipt line.
type QuoteLine struct {
	Line   int   `json:"line"`
	Earned int64 `json:"earned"`
	Spent  int64 `json:"spent"`
	// Paid is the money the line costs after points paid their part.
	Paid int64 `json:"paid"`
}

// Validate checks every field and reports all that are wrong. It normalises
// the card number and the time, so that equal receipts hash equal; an absent
// OccurredAt stays zero (the ledger records the time of confirmation).
func (r *Receipt) Validate(now time.Time) error {
	var pr Problems
	checkID(&pr, "receipt_id", r.ReceiptID, true)
	checkID(&pr, "store_id", r.StoreID, true)
	switch {
	case r.CardNumber == "" && r.MemberID == "":
		pr.Add("card_number", "give card_number or member_id")
	case r.CardNumber != "" && r.MemberID != "":
		pr.Add("member_id", "give card_number or member_id, not both")
	case r.CardNumber != "":
		if n, err := NormalizeCardNumber("card_number", r.CardNumber); err != nil {
			pr = append(pr, err.(*Error).Fields...)
		} else {
			r.CardNumber = n
		}
	default:
		checkID(&pr, "member_id", r.MemberID, true)
	}
	r.OccurredAt = r.OccurredAt.UTC().Truncate(time.Microsecond)
	switch {
	case !r.OccurredAt.IsZero() && r.OccurredAt.Year() < 2000:
		pr.Add("occurred_at", "must be a time after 2000-01-01")
	case r.OccurredAt.After(now.Add(24 * time.Hour)):
		pr.Add("occurred_at", "is more than a day in the future")
	}
	if r.SpendPoints < 0 {
		pr.Add("spend_points", "must not be negative")
	}
	switch {
	case len(r.Lines) == 0:
		pr.Add("lines", "a receipt needs at least one line")
	case len(r.Lines) > MaxLines:
		pr.Add("lines", fmt.Sprintf("a receipt may have at most %d lines", MaxLines))
	}
	seen := make(map[int]bool, len(r.Lines))
	var total int64
	for i, l := range r.Lines {
		f := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		if l.Line < 1 {
			pr.Add(f("line"), "must be a positive line number")
		} else if seen[l.Line] {
			pr.Add(f("line"), fmt.Sprintf("line number %d appears twice", l.Line))
		}
		seen[l.Line] = true
		checkID(&pr, f("sku"), l.SKU, true)
		checkID(&pr, f("category"), l.Category, false)
		if l.Quantity <= 0 || l.Quantity > MaxQuantity {
			pr.Add(f("quantity"), "must be more than 0 and at most 1000000")
		}
		if l.Price < 0 || l.Price > MaxLineAmount {
			pr.Add(f("price"), "must be between 0 and 100000000000 minor units")
		}
		if l.Amount < 0 || l.Amount > MaxLineAmount {
			pr.Add(f("amount"), "must be between 0 and 100000000000 minor units")
			continue
		}
		if l.Quantity > 0 && l.Price >= 0 {
			// quantity × price, rounded half up to a minor unit, caps the amount.
			full, ok := RoundHalfUp.div(int64(l.Quantity), l.Price, QuantityScale)
			if ok && l.Amount > full {
				pr.Add(f("amount"), fmt.Sprintf("is more than quantity × price (%d)", full))
			}
		}
		total += l.Amount
	}
	if r.Total != nil && *r.Total != total {
		pr.Add("total", fmt.Sprintf("is not the sum of the lines' amounts (%d)", total))
	}
	return pr.Err()
}

func checkID(pr *Problems, field, v string, required bool) {
	switch {
	case v == "" && required:
		pr.Add(field, "is required")
	case len(v) > MaxIDLength:
		pr.Add(field, fmt.Sprintf("must be at most %d bytes", MaxIDLength))
	case !CleanText(v):
		pr.Add(field, "must not contain control characters or invalid text")
	}
}

// CleanText reports whether s is valid UTF-8 without control characters:
// text every database stores as given (PostgreSQL refuses NUL and bad UTF-8).
func CleanText(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == utf8.RuneError })
}

// Hash identifies the receipt's content, so that a replay of the same
// receipt id with another body can be told from a retry.
func (r Receipt) Hash() string { return hashJSON(r) }

func hashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Price computes the quote of a receipt for a member who has available
// points. It changes nothing; the same inputs always give the same quote.
//
// Points pay for lines in proportion to their amounts, never more than a
// line costs; points are earned only on the money left to pay, rounded once
// per receipt by the programme's rule and spread over the lines.
func (p Programme) Price(r Receipt, available int64) (Quote, error) {
	q := Quote{ReceiptID: r.ReceiptID, MemberID: r.MemberID, Lines: make([]QuoteLine, len(r.Lines))}
	amounts := make([]int64, len(r.Lines))
	caps := make([]int64, len(r.Lines))
	var capacity int64
	for i, l := range r.Lines {
		amounts[i] = l.Amount
		caps[i] = l.Amount / p.PointValue
		capacity += caps[i]
		q.Total += l.Amount
	}
	share, _ := RoundDown.div(q.Total, int64(p.MaxSpend), 100*PercentScale*p.PointValue)
	q.MaxSpend = min(share, capacity, available)
	if r.SpendPoints > q.MaxSpend {
		e := &Error{
			Code:   ESPENDLIMIT,
			Fields: []FieldError{{"spend_points", fmt.Sprintf("at most %d points may pay for this receipt", q.MaxSpend)}},
			Extra:  map[string]any{"max_spend": q.MaxSpend, "available": available},
		}
		if r.SpendPoints > available {
			e.Code = EINSUFFICIENT
			e.Fields[0].Detail = fmt.Sprintf("the member has %d points available", available)
		}
		e.Message = e.Fields[0].Detail
		return Quote{}, e
	}
	spent := allocate(r.SpendPoints, amounts, caps)
	paid := make([]int64, len(r.Lines))
	for i := range r.Lines {
		paid[i] = amounts[i] - spent[i]*p.PointValue
		q.Paid += paid[i]
	}
	earned, ok := p.Rounding.div(q.Paid, int64(p.EarnRate), 100*PercentScale*p.PointValue)
	if !ok {
		return Quote{}, Invalid("lines", "the receipt is too large")
	}
	earnedLines := allocate(earned, paid, nil)
	for i, l := range r.Lines {
		q.Lines[i] = QuoteLine{Line: l.Line, Earned: earnedLines[i], Spent: spent[i], Paid: paid[i]}
	}
	q.Earned, q.Spent = earned, r.SpendPoints
	return q, nil
}
