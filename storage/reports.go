package storage

import (
	"context"
	"time"

	"github.com/kopilka/kopilka/reports"
)

// OverviewCounts counts what the back office's overview shows, one query a
// figure, each over an index (members by creation, purchases by time,
// transactions by time) or a table of one row a member (balances).
func (t *Tx) OverviewCounts(ctx context.Context, month, day, active time.Time) (reports.Counts, error) {
	var c reports.Counts
	qs := []struct {
		q    string
		args []any
		dst  []any
	}{
		{`SELECT COUNT(*), COALESCE(SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END), 0) FROM members WHERE status <> 'erased'`,
			[]any{micros(month)}, []any{&c.Members, &c.NewMembers}},
		{`SELECT COUNT(DISTINCT member_id) FROM purchases WHERE occurred_at >= $1`, []any{micros(active)}, []any{&c.Active}},
		{`SELECT COUNT(*) FROM purchases WHERE occurred_at >= $1`, []any{micros(day)}, []any{&c.Purchases}},
		{`SELECT COALESCE(SUM(CASE WHEN p.account = 'issuance' THEN -p.amount ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN p.account = 'redemption' THEN p.amount ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN p.account = 'expiry' THEN p.amount ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN p.account = 'adjustment' THEN -p.amount ELSE 0 END), 0)
			FROM transactions t JOIN postings p ON p.tx_id = t.id
			WHERE t.created_at >= $1 AND p.account IN ('issuance', 'redemption', 'expiry', 'adjustment')`,
			[]any{micros(month)}, []any{&c.Issued, &c.Spent, &c.Expired, &c.Adjusted}},
		{`SELECT COALESCE(SUM(available), 0), COALESCE(SUM(pending), 0) FROM balances`, nil, []any{&c.Outstanding, &c.OutstandingPending}},
		{`SELECT COUNT(*) FROM cases WHERE status = 'open'`, nil, []any{&c.OpenCases}},
	}
	for _, q := range qs {
		if err := t.row(ctx, q.q, q.args...).Scan(q.dst...); err != nil {
			return c, t.mapErr(err, "overview")
		}
	}
	return c, nil
}
