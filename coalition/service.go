// Package coalition runs the partners of a coalition: their stores with
// opening hours and coordinates, the nearest stores to a point, and the
// settlement of what each partner owes and is owed.
package coalition

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Service runs the coalition's use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Live is the programme in force (time zone, point value).
	Live Live
	// TTL is how long a store read for a receipt is reused.
	TTL time.Duration

	sites sites
}

// Live reads the programme in force.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}
