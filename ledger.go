package kopilka

import (
	"sort"
	"time"
)

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

// Entry is a ledger transaction being built: its postings, the lots it
// creates and the changes to existing lots. The store writes it at once.
type Entry struct {
	Tx       Transaction
	Postings []Posting
	Moves    []LotMove
	NewLots  []Lot
	// Lots holds the new remaining points (and state) of lots it changed.
	Lots map[string]*Lot
}

func newEntry(tx Transaction) *Entry {
	return &Entry{Tx: tx, Lots: map[string]*Lot{}}
}

// post moves points from one account to another.
func (e *Entry) post(from, to string, points int64) {
	if points == 0 {
		return
	}
	e.Postings = append(e.Postings, Posting{from, -points}, Posting{to, points})
	for _, p := range []Posting{{from, -points}, {to, points}} {
		switch p.Account {
		case AccountAvailable:
			e.Tx.Available += p.Amount
		case AccountPending:
			e.Tx.Pending += p.Amount
		}
	}
}

// addLot creates a lot of points from the counter account.
func (e *Entry) addLot(id string, points int64, from string, activates, expires, now time.Time) *Lot {
	l := Lot{ID: id, MemberID: e.Tx.MemberID, TxID: e.Tx.ID, Points: points, Remaining: points,
		State: LotActive, ActivatesAt: activates, ExpiresAt: expires, CreatedAt: now}
	to := AccountAvailable
	if activates.After(now) {
		l.State, to = LotPending, AccountPending
	}
	e.NewLots = append(e.NewLots, l)
	e.post(from, to, points)
	return &e.NewLots[len(e.NewLots)-1]
}

// move changes a lot's remaining points and records it.
func (e *Entry) move(l *Lot, delta int64) {
	if delta == 0 {
		return
	}
	l.Remaining += delta
	e.Lots[l.ID] = l
	e.Moves = append(e.Moves, LotMove{l.ID, delta})
}

// consume takes points from the lots in order (oldest to expire first) and
// posts them from the lots' account to the counter account. It reports
// whether the lots held enough; on false the entry must be discarded.
func (e *Entry) consume(lots []*Lot, points int64, to string) bool {
	for _, l := range lots {
		if points == 0 {
			break
		}
		take := min(l.Remaining, points)
		if take <= 0 {
			continue
		}
		e.move(l, -take)
		from := AccountAvailable
		if l.State == LotPending {
			from = AccountPending
		}
		e.post(from, to, take)
		points -= take
	}
	return points == 0
}

// SpendOrder sorts lots the way spending consumes them: the soonest to
// expire first (never-expiring last), then the oldest.
func SpendOrder(lots []*Lot) {
	sort.SliceStable(lots, func(i, j int) bool {
		a, b := lots[i], lots[j]
		if !a.ExpiresAt.Equal(b.ExpiresAt) {
			if a.ExpiresAt.IsZero() || b.ExpiresAt.IsZero() {
				return b.ExpiresAt.IsZero()
			}
			return a.ExpiresAt.Before(b.ExpiresAt)
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
}

// Breach is one broken ledger invariant found by Verify.
type Breach struct {
	Invariant string `json:"invariant"`
	Detail    string `json:"detail"`
}
