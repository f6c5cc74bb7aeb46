package kopilka

import (
	"fmt"
	"time"
)

// Purchase statuses.
const (
	PurchaseConfirmed = "confirmed"
	PurchaseRefunded  = "refunded" // every line returned
	PurchaseCancelled = "cancelled"
	// PurchaseReturn is an imported return: goods brought back, its lines'
	// quantities the units returned (see importer).
	PurchaseReturn = "return"
)

// Purchase is a confirmed receipt as the ledger remembers it.
type Purchase struct {
	ReceiptID   string
	MemberID    string
	StoreID     string
	PartnerID   string
	CardNumber  string
	RequestHash string
	Status      string
	TxID        string
	EarnLotID   string
	// EarnedReversed is how many earned points refunds have taken back.
	EarnedReversed int64
	Spends         []Spend
	Lines          []PurchaseLine
	Quote          Quote // the confirmation as the till received it
	OccurredAt     time.Time
	CreatedAt      time.Time
}

// PurchaseLine is a receipt line with what it earned, spent and got back.
type PurchaseLine struct {
	Line
	Earned   int64
	Spent    int64
	Refunded Quantity
}

// Spend is how many points a purchase took from one lot, and how many of
// them refunds have given back.
type Spend struct {
	LotID    string `json:"lot_id"`
	Points   int64  `json:"points"`
	Restored int64  `json:"restored"`
}

// RefundRequest returns some lines or quantities of a purchase.
// Empty Lines returns everything not yet returned.
type RefundRequest struct {
	RefundID string       `json:"refund_id"`
	Lines    []RefundLine `json:"lines"`
}

// RefundLine returns Quantity of a line (nil: all of what is left of it).
type RefundLine struct {
	Line     int       `json:"line"`
	Quantity *Quantity `json:"quantity,omitempty"`
}

// RefundResult is what a refund did.
type RefundResult struct {
	RefundID       string `json:"refund_id"`
	ReceiptID      string `json:"receipt_id"`
	EarnedReversed int64  `json:"earned_reversed"`
	SpentReturned  int64  `json:"spent_returned"`
	// AwardsReversed is the part of EarnedReversed taken from receipt awards.
	AwardsReversed int64 `json:"awards_reversed"`
	// EarnedExpired is how many earned points of the returned part had
	// already expired, and so were not taken back again.
	EarnedExpired int64              `json:"earned_expired"`
	Lines         []RefundResultLine `json:"lines"`
	Balance       Balance            `json:"balance"`
	Status        string             `json:"status"` // the purchase's status after it
}

// RefundResultLine is the part of a refund for one line.
type RefundResultLine struct {
	Line           int      `json:"line"`
	Quantity       Quantity `json:"quantity"`
	EarnedReversed int64    `json:"earned_reversed"`
	SpentReturned  int64    `json:"spent_returned"`
}

// RefundRecord is a stored refund.
type RefundRecord struct {
	ReceiptID   string
	PartnerID   string
	RefundID    string
	RequestHash string
	TxID        string
	Result      RefundResult
	CreatedAt   time.Time
}

// CancelRefundID is the refund id under which a cancel is recorded.
const CancelRefundID = "cancel"

// Validate checks the request against nothing but itself.
func (r *RefundRequest) Validate() error {
	var pr Problems
	CheckID(&pr, "refund_id", r.RefundID, true)
	if r.RefundID == CancelRefundID {
		pr.Add("refund_id", `"cancel" is reserved; use the cancel route`)
	}
	seen := map[int]bool{}
	for i, l := range r.Lines {
		if l.Line < 1 || l.Line > MaxLineNumber {
			pr.Add(fmt.Sprintf("lines[%d].line", i), fmt.Sprintf("must be a line number from 1 to %d", MaxLineNumber))
		} else if seen[l.Line] {
			pr.Add(fmt.Sprintf("lines[%d].line", i), "appears twice")
		}
		seen[l.Line] = true
		if l.Quantity != nil && *l.Quantity <= 0 {
			pr.Add(fmt.Sprintf("lines[%d].quantity", i), "must be more than 0")
		}
	}
	return pr.Err()
}

// Holder is the member a receipt is for, as a purchase finds it.
type Holder struct {
	MemberID     string
	MemberStatus string
	CardStatus   string // "" when the receipt named the member, not a card
	Balance      Balance
	// Prior is the purchase already confirmed under the receipt id, if any.
	Prior *PriorPurchase
}

// PriorPurchase is what a replay of a confirmation needs.
type PriorPurchase struct {
	RequestHash string
	Quote       Quote
}

// PurchaseQuery lists purchases, newest first: every field set must hold.
// From is included, To not. A principal scoped to a partner lists only its
// own partner's (and a store-scoped key only its stores'). After is the
// previous page's cursor (the last purchase's time and ledger transaction);
// Limit is 1 to 200 (0: 50).
type PurchaseQuery struct {
	MemberID, StoreID, PartnerID string
	// StoreIDs, when set, limits the list to these stores (a scoped key's).
	StoreIDs []string
	From, To time.Time
	After    *Cursor
	Limit    int
}
