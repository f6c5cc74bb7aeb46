package storage

import (
	"context"
	"time"
)

// TestClock returns the stored test clock, or ENOTFOUND while none was set.
func (t *Tx) TestClock(ctx context.Context) (time.Time, error) {
	var now int64
	err := t.row(ctx, `SELECT now FROM test_clock WHERE id = 1`+t.lock()).Scan(&now)
	if err != nil {
		return time.Time{}, notFound(err, "test clock")
	}
	return fromMicros(now), nil
}

// SetTestClock stores the test clock's time.
func (t *Tx) SetTestClock(ctx context.Context, now, at time.Time) error {
	_, err := t.execNow(ctx, `INSERT INTO test_clock (id, now, updated_at) VALUES (1, $1, $2)
		ON CONFLICT (id) DO UPDATE SET now = excluded.now, updated_at = excluded.updated_at`, micros(now), micros(at))
	return t.mapErr(err, "test clock")
}
