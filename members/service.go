// Package members keeps the programme's members and their cards:
// registration with its welcome and profile bonuses, contacts, status, and
// cards issued, blocked and replaced with their balance kept.
package members

import (
	"context"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the member and card use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Region reads national phone numbers ("RU": 8 916 … is +7 916 …).
	Region string
	// Live is the programme in force (its bonuses).
	Live Live
	// Wake, when set, is called after a message to a member was written to
	// the outbox, so that it is sent now rather than at the next tick.
	Wake func()
}

// Live reads the programme in force.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}
