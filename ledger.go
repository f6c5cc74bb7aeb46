package kopilka

import "time"

// Accounts of the ledger. Member accounts are per member; the programme's
// accounts have no balance row at all: their balance is the sum of their
// postings, so no purchase ever waits on a programme-wide row.
const (
	AccountAvailable  = "available"  // member: points that can be spent
	AccountPending    = "pending"    // member: points earned, not yet spendable
	AccountIssuance   = "issuance"   // programme: source of every point earned
	AccountRedemption = "redemption" // programme: where spent points go
	AccountExpiry     = "expiry"     // programme: where expired points go
	AccountAdjustment = "adjustment" // programme: manual credits and debits
)

// Transaction kinds.
const (
	KindPurchase   = "purchase"
	KindRefund     = "refund"
	KindCancel     = "cancel"
	KindAdjustment = "adjustment"
	KindActivation = "activation"
	KindExpiry     = "expiry"
)

// Lot states.
const (
	LotPending = "pending"
	LotActive  = "active"
)

// Balance is a member's points.
type Balance struct {
	Available int64 `json:"available"`
	Pending   int64 `json:"pending"`
}

// Expiring is a number of points that expire at one moment.
type Expiring struct {
	Points    int64     `json:"points"`
	ExpiresAt time.Time `json:"expires_at"`
}

// BalanceView is the balance a member or a till reads.
type BalanceView struct {
	MemberID  string     `json:"member_id"`
	Available int64      `json:"available"`
	Pending   int64      `json:"pending"`
	Expiring  []Expiring `json:"expiring"`
}

// Lot is one accrual of points with its own activation and expiry.
// Remaining is what is left of Points after spending and expiry.
type Lot struct {
	ID          string
	MemberID    string
	TxID        string
	Points      int64
	Remaining   int64
	Expired     int64     // how many of Points expiry took
	State       string    // pending or active
	ActivatesAt time.Time // when a pending lot becomes spendable
	ExpiresAt   time.Time // zero: never
	CreatedAt   time.Time
}

// Posting moves Amount points into Account (negative: out of it).
type Posting struct {
	Account string
	Amount  int64
}

// LotMove is a change of a lot's remaining points by a transaction.
type LotMove struct {
	LotID string
	Delta int64
}

// Transaction is a posted, balanced ledger transaction of one member.
type Transaction struct {
	ID        string `json:"id"`
	MemberID  string `json:"member_id"`
	Kind      string `json:"kind"`
	ReceiptID string `json:"receipt_id,omitempty"`
	RefundID  string `json:"refund_id,omitempty"`
	// StoreID and PartnerID say where a purchase, refund or cancel happened:
	// the partner owes the points it issued and is owed those it redeemed.
	StoreID        string    `json:"store_id,omitempty"`
	PartnerID      string    `json:"partner_id,omitempty"`
	Available      int64     `json:"available"` // change of the available balance
	Pending        int64     `json:"pending"`   // change of the pending balance
	Reason         string    `json:"reason,omitempty"`
	Actor          string    `json:"actor,omitempty"`
	IdempotencyKey string    `json:"-"`
	RequestHash    string    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
}

// Breach is one broken ledger invariant found by Verify.
type Breach struct {
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
}

// Adjustment is a manual credit (positive points) or debit (negative).
type Adjustment struct {
	Points int64  `json:"points"`
	Reason string `json:"reason"`
	// ExpiresDays or ExpiresMonths is how long a credit lives (at most one
	// of them; neither: like earned points). A debit takes neither.
	ExpiresDays   int `json:"expires_days,omitempty"`
	ExpiresMonths int `json:"expires_months,omitempty"`
}

// Life is how long the adjustment's credit lives (zero: like earned points).
func (a Adjustment) Life() Life { return Life{Days: a.ExpiresDays, Months: a.ExpiresMonths} }

// Counter is a change of one of a member's totals in one bucket.
type Counter struct {
	Name   string
	Bucket string
	Delta  int64
}

// Cursor marks a place in a member's history.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}
