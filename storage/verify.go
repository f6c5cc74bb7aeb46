package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
)

// invariants are queries that return one row per breach: an identifier and
// two numbers that should have been equal.
var invariants = []struct{ name, query string }{
	{"every transaction's postings sum to zero",
		`SELECT tx_id, SUM(amount), 0 FROM postings GROUP BY tx_id HAVING SUM(amount) <> 0`},
	{"every posting belongs to a transaction of its member",
		`SELECT p.tx_id, 0, 0 FROM postings p LEFT JOIN transactions t ON t.id = p.tx_id
		 WHERE t.id IS NULL OR (p.member_id IS NOT NULL AND p.member_id <> t.member_id)`},
	{"available balance equals the sum of its postings",
		`SELECT b.member_id, b.available, COALESCE(s.total, 0) FROM balances b
		 LEFT JOIN (SELECT member_id, SUM(amount) AS total FROM postings WHERE account = 'available' GROUP BY member_id) s
		 ON s.member_id = b.member_id WHERE b.available <> COALESCE(s.total, 0)`},
	{"pending balance equals the sum of its postings",
		`SELECT b.member_id, b.pending, COALESCE(s.total, 0) FROM balances b
		 LEFT JOIN (SELECT member_id, SUM(amount) AS total FROM postings WHERE account = 'pending' GROUP BY member_id) s
		 ON s.member_id = b.member_id WHERE b.pending <> COALESCE(s.total, 0)`},
	{"available balance equals what its active lots hold",
		`SELECT b.member_id, b.available, COALESCE(s.total, 0) FROM balances b
		 LEFT JOIN (SELECT member_id, SUM(remaining) AS total FROM lots WHERE state = 'active' GROUP BY member_id) s
		 ON s.member_id = b.member_id WHERE b.available <> COALESCE(s.total, 0)`},
	{"pending balance equals what its pending lots hold",
		`SELECT b.member_id, b.pending, COALESCE(s.total, 0) FROM balances b
		 LEFT JOIN (SELECT member_id, SUM(remaining) AS total FROM lots WHERE state = 'pending' GROUP BY member_id) s
		 ON s.member_id = b.member_id WHERE b.pending <> COALESCE(s.total, 0)`},
	{"every balance is between 0 and the ceiling of points",
		`SELECT member_id, available, pending FROM balances
		 WHERE available < 0 OR pending < 0 OR available > ` + ceiling + ` OR pending > ` + ceiling},
	{"a lot holds its points plus its recorded moves",
		`SELECT l.id, l.remaining, l.points + COALESCE(m.total, 0) FROM lots l
		 LEFT JOIN (SELECT lot_id, SUM(delta) AS total FROM lot_moves GROUP BY lot_id) m ON m.lot_id = l.id
		 WHERE l.remaining <> l.points + COALESCE(m.total, 0) OR l.remaining < 0 OR l.remaining > l.points`},
	{"a transaction's balance changes equal its postings",
		`SELECT t.id, t.available + t.pending, COALESCE(s.total, 0) FROM transactions t
		 LEFT JOIN (SELECT tx_id,
		   SUM(CASE WHEN account = 'available' THEN amount ELSE 0 END) AS a,
		   SUM(CASE WHEN account = 'pending' THEN amount ELSE 0 END) AS p,
		   SUM(CASE WHEN account IN ('available', 'pending') THEN amount ELSE 0 END) AS total
		   FROM postings GROUP BY tx_id) s ON s.tx_id = t.id
		 WHERE t.available <> COALESCE(s.a, 0) OR t.pending <> COALESCE(s.p, 0)`},
	{"every purchase has its ledger transaction (history imported without points has none)",
		`SELECT p.receipt_id, 0, 0 FROM purchases p LEFT JOIN transactions t ON t.id = p.tx_id
		 WHERE t.id IS NULL AND NOT (p.tx_id = '' AND p.request_hash LIKE 'import:%')`},
}

// ceiling is kopilka.PointsCeiling in SQL: no balance may hold more.
var ceiling = strconv.FormatInt(kopilka.PointsCeiling, 10)

// Verify runs every invariant query and reports up to 20 breaches of each.
// A row it cannot read (a value out of range, a sum that overflows) is a
// breach of its own, and the other invariants are still checked; only a
// database that cannot be reached (or ctx ending) stops it with an error.
func (db *DB) Verify(ctx context.Context) ([]kopilka.Breach, error) {
	var out []kopilka.Breach
	for _, inv := range invariants {
		found, err := db.check(ctx, inv.query)
		for _, b := range found {
			b.Invariant = inv.name
			out = append(out, b)
		}
		if err != nil {
			if ctx.Err() != nil || db.SQL.PingContext(ctx) != nil {
				return out, fmt.Errorf("verify %q: %w", inv.name, err)
			}
			out = append(out, kopilka.Breach{Invariant: inv.name, Detail: "could not be checked: " + err.Error()})
		}
	}
	return out, nil
}

// check runs one invariant's query. Values are read as they are stored, not
// as int64, so that a value no int64 holds is shown rather than fatal.
func (db *DB) check(ctx context.Context, query string) ([]kopilka.Breach, error) {
	rows, err := db.SQL.QueryContext(ctx, query+` LIMIT 20`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []kopilka.Breach
	for rows.Next() {
		var id, a, b any
		if err := rows.Scan(&id, &a, &b); err != nil {
			return out, err
		}
		out = append(out, kopilka.Breach{Detail: fmt.Sprintf("%s: %s, expected %s", show(id), show(a), show(b))})
	}
	return out, rows.Err()
}

// show formats a value as the database gave it.
func show(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// Invariants lists the names of the checks Verify runs.
func Invariants() string {
	names := make([]string, len(invariants))
	for i, inv := range invariants {
		names[i] = "- " + inv.name
	}
	return strings.Join(names, "\n")
}
