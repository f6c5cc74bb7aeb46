// Package jobs runs the programme's background work: activating and
// expiring lots, reviewing tiers and giving birthday bonuses, one member
// per transaction, safe to run on several instances at once.
package jobs

import (
	"context"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the jobs over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Live is the programme in force.
	Live Live
}

// Live reads the programme in force.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}
