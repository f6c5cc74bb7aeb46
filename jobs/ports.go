package jobs

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/programme"
)

// Tx is the storage the background jobs need inside a transaction.
type Tx interface {
	ledger.SettleTx
	programme.BonusTx
	pricing.Counters
	// BirthdayMembers lists up to limit active members born on one of the
	// days ("MM-DD") who have had no birthday bonus for year.
	BirthdayMembers(ctx context.Context, days []string, year, limit int) ([]string, error)
	// DueMembers lists up to limit members with lots to activate or expire at now.
	DueMembers(ctx context.Context, now time.Time, limit int) (activate, expire []string, err error)
	// LockBalance reads the member's balance and holds it against other
	// writers until the transaction ends. Every write to a member's lots
	// takes this lock first, so locks are always taken in the same order.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// DeleteStaleCodes deletes up to limit one-time code rows whose code,
	// failures and sends all began before before, and says how many.
	DeleteStaleCodes(ctx context.Context, before time.Time, limit int) (int, error)
	// TierReviews lists up to limit members whose tier is due for review at now.
	TierReviews(ctx context.Context, now time.Time, limit int) ([]string, error)
	UpdateMember(ctx context.Context, m kopilka.Member) error
}
