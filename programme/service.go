// Package programme keeps the programme's settings and rules: the live
// programme compiled once per change, rules and campaigns edited one at a
// time, simulation of a change on past receipts, event bonuses, tiers and
// members' personal categories.
package programme

import (
	"context"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the programme's use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// TTL is how long a read of the programme settings is reused.
	TTL time.Duration
	// Sites finds the stores of past receipts for simulation.
	Sites Sites

	mu       sync.Mutex
	engine   *pricing.Engine
	loadedAt time.Time
}

// Sites finds a store with its partner; an unknown store is ENOTFOUND.
type Sites interface {
	Site(ctx context.Context, storeID string) (kopilka.Site, error)
}
