package pricing

import (
	"context"
)

// Counters is what tier arithmetic reads of a member's running totals.
type Counters interface {
	// SumCounter sums the member's counter over buckets from … to, inclusive.
	SumCounter(ctx context.Context, memberID, name, from, to string) (int64, error)
}
