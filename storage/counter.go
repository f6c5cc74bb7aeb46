package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

func (t *Tx) AddCounters(ctx context.Context, memberID string, deltas []kopilka.Counter) error {
	// One row per key: an upsert may not touch a row twice.
	type key struct{ name, bucket string }
	sum := map[key]int64{}
	for _, d := range deltas {
		sum[key{d.Name, d.Bucket}] += d.Delta
	}
	keys := make([]key, 0, len(sum))
	for k, v := range sum {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].bucket < keys[j].bucket
	})
	args := make([]any, 0, 4*len(keys))
	for _, k := range keys {
		args = append(args, memberID, k.name, k.bucket, sum[k])
	}
	var b batch
	b.add("member_counters", `INSERT INTO member_counters (member_id, name, bucket, value) VALUES `+values(len(keys), 4, 1)+`
		ON CONFLICT (member_id, name, bucket) DO UPDATE SET value = member_counters.value + excluded.value`, args...)
	return t.mapErr(t.exec(ctx, b), "counter")
}

func (t *Tx) SumCounter(ctx context.Context, memberID, name, from, to string) (int64, error) {
	var v sql.NullInt64
	err := t.row(ctx, `SELECT SUM(value) FROM member_counters
		WHERE member_id = $1 AND name = $2 AND bucket >= $3 AND bucket <= $4`, memberID, name, from, to).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("counter %s: %w", name, err)
	}
	return v.Int64, nil
}

func (t *Tx) LastPurchase(ctx context.Context, memberID string) (time.Time, error) {
	var v sql.NullInt64
	if err := t.row(ctx, `SELECT MAX(occurred_at) FROM purchases WHERE member_id = $1 AND status <> 'cancelled'`, memberID).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("last purchase: %w", err)
	}
	if !v.Valid {
		return time.Time{}, nil
	}
	return fromMicros(v.Int64), nil
}

func (t *Tx) TakeBudget(ctx context.Context, name string, limits []int64, prefer int, want int64) (int64, error) {
	// What each slice has used, read without locks: a spent slice stays
	// spent, so it is passed over without ever being locked.
	used := make([]int64, len(limits))
	seen, err := t.readSlices(ctx, used, `SELECT slice, used FROM budgets WHERE name = $1`, name)
	if err != nil {
		return 0, err
	}
	if seen < len(limits) {
		args := make([]any, 0, 2*len(limits))
		for i := range limits {
			args = append(args, name, i)
		}
		if _, err := t.execNow(ctx, `INSERT INTO budgets (name, slice, used) VALUES `+values(len(limits), 3, 1)+`
			ON CONFLICT (name, slice) DO NOTHING`, withZeros(args)...); err != nil {
			return 0, t.mapErr(err, "budget")
		}
	}
	// Choose the preferred slice, then those with the most room, until they
	// hold enough; lock them in ascending order and take from them. A slice
	// another purchase drained between the read and the lock gives less:
	// then choose again among the slices not yet tried, until the want is
	// met or no slice has room, so that a receipt never gets less while
	// room is left (locks taken out of order may deadlock: the database
	// says so and the purchase is retried).
	tried := make([]bool, len(limits))
	var took int64
	for round := 0; took < want; round++ {
		if round > 0 {
			if _, err := t.readSlices(ctx, used, `SELECT slice, used FROM budgets WHERE name = $1`, name); err != nil {
				return 0, err
			}
		}
		order := make([]int, 0, len(limits))
		if !tried[prefer] {
			order = append(order, prefer)
		}
		rest := make([]int, 0, len(limits))
		for i := range limits {
			if i != prefer && !tried[i] {
				rest = append(rest, i)
			}
		}
		sort.SliceStable(rest, func(a, b int) bool { return limits[rest[a]]-used[rest[a]] > limits[rest[b]]-used[rest[b]] })
		order = append(order, rest...)
		var chosen []int
		var room int64
		for _, i := range order {
			if r := limits[i] - used[i]; r > 0 && room < want-took {
				chosen = append(chosen, i)
				room += r
			}
		}
		if len(chosen) == 0 {
			return took, nil
		}
		sorted := slices.Clone(chosen)
		slices.Sort(sorted)
		marks := make([]string, len(sorted))
		args := []any{name}
		for i, slice := range sorted {
			marks[i] = fmt.Sprintf("$%d", i+2)
			args = append(args, slice)
			tried[slice] = true
		}
		if _, err := t.readSlices(ctx, used, `SELECT slice, used FROM budgets WHERE name = $1 AND slice IN (`+
			strings.Join(marks, ", ")+`) ORDER BY slice`+t.lock(), args...); err != nil {
			return 0, err
		}
		for _, slice := range chosen {
			take := min(want-took, limits[slice]-used[slice])
			if take <= 0 {
				continue
			}
			if _, err := t.execNow(ctx, `UPDATE budgets SET used = used + $3 WHERE name = $1 AND slice = $2`, name, slice, take); err != nil {
				return 0, t.mapErr(err, "budget")
			}
			used[slice] += take
			took += take
		}
	}
	return took, nil
}

// readSlices reads (slice, used) rows into used and counts them.
func (t *Tx) readSlices(ctx context.Context, used []int64, q string, args ...any) (int, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("budget: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var slice int
		var u int64
		if err := rows.Scan(&slice, &u); err != nil {
			return 0, err
		}
		if slice >= 0 && slice < len(used) {
			used[slice] = u
			n++
		}
	}
	return n, rows.Err()
}

// withZeros turns (name, slice) pairs into (name, slice, 0) rows.
func withZeros(pairs []any) []any {
	out := make([]any, 0, len(pairs)/2*3)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, pairs[i], pairs[i+1], 0)
	}
	return out
}

func (t *Tx) BudgetUsed(ctx context.Context, name string) (int64, error) {
	var v sql.NullInt64
	if err := t.row(ctx, `SELECT SUM(used) FROM budgets WHERE name = $1`, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("budget %s: %w", name, err)
	}
	return v.Int64, nil
}

func (t *Tx) PurchasesBetween(ctx context.Context, from, to time.Time, after *kopilka.Cursor, limit int) ([]*kopilka.Purchase, error) {
	afterAt, afterID := micros(from)-1, ""
	if after != nil {
		afterAt, afterID = micros(after.CreatedAt), after.ID
	}
	// The cursor's id is the purchase's ledger transaction: unique, where a
	// receipt id is unique only within its partner.
	return t.purchasesOf(ctx, `SELECT partner_id, receipt_id FROM purchases
		WHERE occurred_at < $1 AND (occurred_at > $2 OR (occurred_at = $2 AND tx_id > $3))
		ORDER BY occurred_at, tx_id LIMIT $4`, micros(to), afterAt, afterID, limit)
}

// purchasesOf reads the purchases whose (partner_id, receipt_id) the query
// selects, with their lines, in its order.
func (t *Tx) purchasesOf(ctx context.Context, q string, args ...any) ([]*kopilka.Purchase, error) {
	rows, err := t.query(ctx, q, args...)
	keys, err := collect(rows, err, "purchases", func(s Scanner) ([2]string, error) {
		var k [2]string
		return k, s.Scan(&k[0], &k[1])
	})
	if err != nil {
		return nil, err
	}
	ps := make([]*kopilka.Purchase, 0, len(keys))
	for _, k := range keys {
		p, err := t.Purchase(ctx, k[0], k[1])
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// TakeAllowance adds want to the allowance's use if the sum stays within
// limit. The allowance is one row of budgets (slice 0); the conditional
// UPDATE holds its row lock (SQLite: the writer), so concurrent takers
// never pass the limit together.
func (t *Tx) TakeAllowance(ctx context.Context, name string, want, limit int64) (bool, error) {
	if want > limit {
		return false, nil
	}
	if _, err := t.execNow(ctx, `INSERT INTO budgets (name, slice, used) VALUES ($1, 0, 0) ON CONFLICT (name, slice) DO NOTHING`, name); err != nil {
		return false, t.mapErr(err, "allowance")
	}
	n, err := t.execNow(ctx, `UPDATE budgets SET used = used + $2 WHERE name = $1 AND slice = 0 AND used <= $3`, name, want, limit-want)
	if err != nil {
		return false, t.mapErr(err, "allowance")
	}
	return n == 1, nil
}
