package kopilka

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on a receipt, so that no product of its numbers overflows.
const (
	MaxLines      = 1000
	MaxLineNumber = 1_000_000       // a line's number (both databases store it as a 32-bit integer)
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
	// SpendMode "up_to" spends as much of SpendPoints as the rules allow and
	// says why it was cut; by default ("exact") a larger request is refused.
	SpendMode string `json:"spend_mode,omitempty"`
	// Channel is where the purchase was made ("store", "online", "app"); rules may match it.
	Channel string `json:"channel,omitempty"`
	// Total, when given, must equal the sum of the lines' amounts.
	Total *int64 `json:"total,omitempty"`
	// PartnerID is the store's partner, filled in by the service.
	PartnerID string `json:"-"`
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
	ReceiptID string `json:"receipt_id"`
	MemberID  string `json:"member_id"`
	StoreID   string `json:"store_id,omitempty"`
	PartnerID string `json:"partner_id,omitempty"`
	// OccurredAt is the purchase's time, in a purchase read back (GET); a
	// quote and a confirmation's answer leave it out.
	OccurredAt *time.Time  `json:"occurred_at,omitempty"`
	Total      int64       `json:"total"`
	Earned     int64       `json:"earned"`
	Spent      int64       `json:"spent"`
	MaxSpend   int64       `json:"max_spend"`
	Paid       int64       `json:"paid"` // money left to pay after points
	Lines      []QuoteLine `json:"lines"`
	Balance    Balance     `json:"balance"`
	Status     string      `json:"status,omitempty"`
	// Tier is the member's tier the receipt was priced at.
	Tier string `json:"tier,omitempty"`
	// SpendLimit says how many points could pay and what limited them.
	SpendLimit SpendLimit `json:"spend_limit"`
	// Awards are the points receipt rules gave (per receipt, thresholds).
	Awards []Award `json:"awards,omitempty"`
	// Rules are the points each line rule gave the whole receipt, in the
	// order the rules were applied, with how many lines it gave them to.
	Rules []RuleLines `json:"rules,omitempty"`
}

// MaxLineRules is how many rules a quote line names at most: the ones that
// gave it the most points. The others are summed in MoreRules and
// MorePoints, and every rule's total is in Quote.Rules, so that an answer
// grows with lines plus rules, never with lines times rules.
const MaxLineRules = 5

// RuleLines is what one line rule gave a receipt.
type RuleLines struct {
	Rule     string `json:"rule"`
	Campaign string `json:"campaign,omitempty"`
	Points   int64  `json:"points"`
	Lines    int    `json:"lines"`
}

// Spend modes.
const (
	SpendExact = "exact"
	SpendUpTo  = "up_to"
)

// SpendLimit explains the largest spend.
type SpendLimit struct {
	Requested int64    `json:"requested"`
	Max       int64    `json:"max"`
	Cut       bool     `json:"cut"` // the request was larger and spend_mode "up_to" cut it
	Reasons   []string `json:"reasons"`
}

// RulePoints is what one rule gave one line.
type RulePoints struct {
	Rule     string `json:"rule"`
	Campaign string `json:"campaign,omitempty"`
	Points   int64  `json:"points"`
}

// Award is what a receipt rule gave, with what it needs to be taken back
// in part when lines are returned.
type Award struct {
	Rule     string `json:"rule"`
	Campaign string `json:"campaign,omitempty"`
	Kind     string `json:"kind"`
	Points   int64  `json:"points"`
	// Lines are the receipt lines it counted; Basis their paid amount.
	Lines     []int `json:"lines"`
	Basis     int64 `json:"basis"`
	Each      int64 `json:"each"`
	Threshold int64 `json:"threshold,omitempty"`
	Repeat    bool  `json:"repeat,omitempty"`
}

// QuoteLine is the part of a quote for one receipt line.
type QuoteLine struct {
	Line   int   `json:"line"`
	Earned int64 `json:"earned"`
	Spent  int64 `json:"spent"`
	// Paid is the money the line costs after points paid their part.
	Paid int64 `json:"paid"`
	// Rules says which rules gave the line's earned points: at most
	// MaxLineRules, those that gave the most; MoreRules other rules gave it
	// MorePoints more.
	Rules      []RulePoints `json:"rules,omitempty"`
	MoreRules  int          `json:"more_rules,omitempty"`
	MorePoints int64        `json:"more_points,omitempty"`
	// SpendCap is the most points may pay for the line, and SpendNote why
	// it is less than the line's amount.
	SpendCap  int64  `json:"spend_cap"`
	SpendNote string `json:"spend_note,omitempty"`
}

// Validate checks every field and reports all that are wrong. It normalises
// the card number and the time, so that equal receipts hash equal; an absent
// OccurredAt stays zero (the ledger records the time of confirmation).
func (r *Receipt) Validate(now time.Time) error {
	var pr Problems
	CheckID(&pr, "receipt_id", r.ReceiptID, true)
	CheckID(&pr, "store_id", r.StoreID, true)
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
		CheckID(&pr, "member_id", r.MemberID, true)
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
	if r.SpendMode != "" && r.SpendMode != SpendExact && r.SpendMode != SpendUpTo {
		pr.Add("spend_mode", `must be "exact" or "up_to"`)
	}
	CheckID(&pr, "channel", r.Channel, false)
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
		if l.Line < 1 || l.Line > MaxLineNumber {
			pr.Add(f("line"), fmt.Sprintf("must be a line number from 1 to %d", MaxLineNumber))
		} else if seen[l.Line] {
			pr.Add(f("line"), fmt.Sprintf("line number %d appears twice", l.Line))
		}
		seen[l.Line] = true
		CheckID(&pr, f("sku"), l.SKU, true)
		CheckID(&pr, f("category"), l.Category, false)
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
			full, ok := RoundHalfUp.Div(int64(l.Quantity), l.Price, QuantityScale)
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

func CheckID(pr *Problems, field, v string, required bool) {
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
func (r Receipt) Hash() string { return HashJSON(r) }

func HashJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Value is what an award gives for a paid basis, in points; a product that
// does not fit in an int64 is math.MaxInt64, which every cap refuses.
func (a Award) Value(basis int64) int64 {
	switch a.Kind {
	case RulePerReceipt:
		return a.Each
	case RuleThreshold:
		if a.Threshold <= 0 || basis < a.Threshold {
			return 0
		}
		if a.Repeat {
			v, ok := Mul(basis/a.Threshold, a.Each)
			if !ok {
				return math.MaxInt64
			}
			return v
		}
		return a.Each
	}
	return 0
}
