// Package ledger posts points: balanced transactions of postings between
// accounts, lots that activate after the pending period and expire on
// their own date, spending that takes the soonest-expiring lots first, and
// the use cases that read and adjust a member's account.
package ledger

import (
	"context"

	"github.com/kopilka/kopilka"
)

// Service runs the ledger's use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Live is the programme in force (expiry, expiring-soon window).
	Live Live
}

// Live reads the programme in force.
type Live interface {
	Programme(ctx context.Context) (kopilka.Programme, error)
}
