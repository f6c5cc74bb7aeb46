package ledger

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// SettleTx is what settling a member's due lots needs: the lots, and posting.
type SettleTx interface {
	// Lots returns the member's lots in a state ("": any) that still hold points.
	Lots(ctx context.Context, memberID, state string) ([]*kopilka.Lot, error)
	// Post writes the entry: transaction, postings, lots, lot moves and the
	// change to the member's balance. A balance that would go negative is EINSUFFICIENT.
	Post(ctx context.Context, e *Entry) error
}

// Tx is the storage the ledger's use cases need inside a transaction.
type Tx interface {
	access.Auditor
	SettleTx
	// Expiring sums the member's active points that expire by until.
	Expiring(ctx context.Context, memberID string, until time.Time) ([]kopilka.Expiring, error)
	// LockBalance reads the member's balance and holds it against other
	// writers until the transaction ends. Every write to a member's lots
	// takes this lock first, so locks are always taken in the same order.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
	// TakeAllowance adds want to what the named allowance has used, provided
	// the sum stays within limit, and reports whether it did; concurrent
	// takers of one allowance never pass the limit together.
	TakeAllowance(ctx context.Context, name string, want, limit int64) (bool, error)
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// TransactionByKey finds a transaction by its idempotency key, or ENOTFOUND.
	TransactionByKey(ctx context.Context, memberID, key string) (kopilka.Transaction, error)
	// Transactions returns a member's history, newest first, before the cursor.
	Transactions(ctx context.Context, memberID string, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, error)
}
