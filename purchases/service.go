// Package purchases is the till's flow: a receipt quoted (nothing
// changes), confirmed (idempotent by its receipt id), refunded in whole or
// in part, or cancelled, with points earned and spent posted to the ledger.
package purchases

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the purchase flow over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Live is the programme in force, compiled for pricing.
	Live Live
	// Sites finds the store a receipt names and refuses a closed one.
	Sites Sites
}

// Live reads the programme in force.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}

// Sites finds the store a receipt names with its partner. SiteFor refuses
// an unknown store (EUNKNOWNSTORE) and a closed one (ESTORECLOSED) at the
// receipt's time, and sets the receipt's partner.
type Sites interface {
	// Site returns the store with its partner; an unknown store is ENOTFOUND.
	Site(ctx context.Context, storeID string) (kopilka.Site, error)
	SiteFor(ctx context.Context, r *kopilka.Receipt, now time.Time) (kopilka.Site, error)
}
