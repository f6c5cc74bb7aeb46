// Package ledger posts points: balanced transactions of postings between
// accounts, lots that activate after the pending period and expire on
// their own date, spending that takes the soonest-expiring lots first, and
// the use cases that read and adjust a member's account.
package ledger

import (
	"context"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the ledger's use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Live is the programme in force (expiry, expiring-soon window).
	Live Live
	// SupportLimit is the most points one adjustment by the support role
	// may add or take.
	SupportLimit int64
	// SupportDailyLimit is the most points one support operator (or key)
	// may add and take in all in a UTC day;
	// SupportMemberDailyLimit the most the support role may add and take on
	// one member's account in a day, whoever adjusts. Debits count as much
	// as credits. 0 means no limit.
	SupportDailyLimit, SupportMemberDailyLimit int64
}

// Live reads the programme in force.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}
