package programme

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
)

// BonusTx is what giving an event bonus needs, inside the caller's transaction.
type BonusTx interface {
	// LastPurchase is when the member's last purchase not cancelled occurred (zero: never).
	LastPurchase(ctx context.Context, memberID string) (time.Time, error)
	// LockBalance reads the member's balance and holds it against other
	// writers until the transaction ends. Every write to a member's lots
	// takes this lock first, so locks are always taken in the same order.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
	// Post writes the entry: transaction, postings, lots, lot moves and the
	// change to the member's balance. A balance that would go negative is EINSUFFICIENT.
	Post(ctx context.Context, e *ledger.Entry) error
	// TransactionByKey finds a transaction by its idempotency key, or ENOTFOUND.
	TransactionByKey(ctx context.Context, memberID, key string) (kopilka.Transaction, error)
}

// Tx is the storage the programme's use cases need inside a transaction.
type Tx interface {
	access.Auditor
	BonusTx
	pricing.Counters
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	Programme(ctx context.Context) (kopilka.Programme, error)
	// PurchasesBetween returns up to limit purchases with their lines that
	// occurred in [from, to), in order of occurrence (then of their ledger
	// transaction, the cursor's ID), after the cursor.
	PurchasesBetween(ctx context.Context, from, to time.Time, after *kopilka.Cursor, limit int) ([]*kopilka.Purchase, error)
	SetProgramme(ctx context.Context, p kopilka.Programme) error
	UpdateMember(ctx context.Context, m kopilka.Member) error
}
