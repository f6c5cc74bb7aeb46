package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/reports"
)

// bucketOf is an SQL expression giving the index i of the step
// [bounds[i], bounds[i+1]) that col (microseconds) falls in, by a binary
// tree of CASEs (⌈log₂ n⌉ comparisons a row, where a flat CASE would make
// a year of days cost 183 on average). The bounds are our own int64s,
// written as literals. A value outside the bounds gets the nearest step:
// callers filter on the bounds.
func bucketOf(col string, bounds []time.Time) string {
	var build func(lo, hi int) string
	build = func(lo, hi int) string {
		if hi-lo <= 1 {
			return strconv.Itoa(lo)
		}
		mid := (lo + hi) / 2
		return fmt.Sprintf("CASE WHEN %s < %d THEN %s ELSE %s END", col, micros(bounds[mid]), build(lo, mid), build(mid, hi))
	}
	return build(0, len(bounds)-1)
}

// sale is the SQL condition of a purchase that counts as one in the
// analytics: not cancelled, not an imported return.
const sale = `status IN ('confirmed', 'refunded')`

func (t *Tx) CohortCells(ctx context.Context, bounds []time.Time) ([]reports.CohortCell, error) {
	from, to := micros(bounds[0]), micros(bounds[len(bounds)-1])
	rows, err := t.query(ctx, `WITH firsts AS (
			SELECT member_id, MIN(occurred_at) AS first_at FROM purchases
			WHERE member_id <> '' AND `+sale+` GROUP BY member_id
		), active AS (
			SELECT DISTINCT member_id, `+bucketOf("occurred_at", bounds)+` AS k FROM purchases
			WHERE member_id <> '' AND `+sale+` AND occurred_at >= $1 AND occurred_at < $2
		)
		SELECT c, k, COUNT(*) FROM (
			SELECT `+bucketOf("f.first_at", bounds)+` AS c, a.k AS k FROM active a JOIN firsts f ON f.member_id = a.member_id
			WHERE f.first_at >= $1 AND f.first_at < $2
		) x GROUP BY c, k ORDER BY c, k`, from, to)
	return collect(rows, err, "cohorts", func(s Scanner) (reports.CohortCell, error) {
		var c reports.CohortCell
		err := s.Scan(&c.Cohort, &c.Month, &c.Members)
		return c, err
	})
}

// netAmount is a purchase line's amount less its returned units' share,
// rounded down (l is purchase_lines).
const netAmount = `l.amount * (l.quantity - l.refunded) / l.quantity`

func (t *Tx) RFMRows(ctx context.Context, from, to time.Time, fn func(reports.RFMRow) error) error {
	rows, err := t.query(ctx, `WITH pur AS (
			SELECT p.member_id, p.occurred_at, p.status, SUM(`+netAmount+`) AS net
			FROM purchases p JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.member_id <> '' AND p.status <> 'cancelled' AND p.occurred_at >= $1 AND p.occurred_at < $2
			GROUP BY p.receipt_id, p.partner_id, p.member_id, p.occurred_at, p.status
		), v AS (
			SELECT member_id,
				MAX(CASE WHEN status <> 'return' THEN occurred_at END) AS last_at,
				SUM(CASE WHEN status <> 'return' THEN 1 ELSE 0 END) AS freq,
				SUM(CASE WHEN status = 'return' THEN -net ELSE net END) AS money
			FROM pur GROUP BY member_id
			HAVING SUM(CASE WHEN status <> 'return' THEN 1 ELSE 0 END) > 0
		)
		SELECT member_id, last_at, CAST(freq AS BIGINT), CAST(money AS BIGINT),
			1 + 5 * (RANK() OVER (ORDER BY last_at) - 1) / COUNT(*) OVER () AS r,
			1 + 5 * (RANK() OVER (ORDER BY freq) - 1) / COUNT(*) OVER () AS f,
			1 + 5 * (RANK() OVER (ORDER BY money) - 1) / COUNT(*) OVER () AS m
		FROM v ORDER BY member_id`, micros(from), micros(to))
	if err != nil {
		return fmt.Errorf("rfm: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r reports.RFMRow
		var last int64
		if err := rows.Scan(&r.MemberID, &last, &r.Frequency, &r.Monetary, &r.R, &r.F, &r.M); err != nil {
			return fmt.Errorf("rfm: %w", err)
		}
		r.LastAt = fromMicros(last)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// kpiFilter is the SQL condition and arguments of a KPI query's filters on
// a table aliased a with store_id, partner_id and member_id columns;
// arguments are numbered from start.
func kpiFilter(a string, q reports.KPIQuery, start int) (string, []any) {
	var sql string
	var args []any
	add := func(cond string, v any) {
		sql += fmt.Sprintf(" AND "+cond, start+len(args))
		args = append(args, v)
	}
	if q.StoreID != "" {
		add(a+".store_id = $%d", q.StoreID)
	}
	if q.PartnerID != "" {
		add(a+".partner_id = $%d", q.PartnerID)
	}
	if q.Segment != "" {
		add(a+".member_id IN (SELECT id FROM members WHERE tags LIKE $%d)", `%"rfm:`+q.Segment+`"%`)
	}
	return sql, args
}

func (t *Tx) KPICounts(ctx context.Context, bounds []time.Time, q reports.KPIQuery) ([]reports.KPICounts, error) {
	steps := map[int]*reports.KPICounts{}
	at := func(m map[int]*reports.KPICounts, k int) *reports.KPICounts {
		if m[k] == nil {
			m[k] = &reports.KPICounts{Step: k}
		}
		return m[k]
	}
	whole := []time.Time{bounds[0], bounds[len(bounds)-1]}
	total := map[int]*reports.KPICounts{}
	if err := t.kpiSales(ctx, bounds, q, func(k int) *reports.KPICounts { return at(steps, k) }); err != nil {
		return nil, err
	}
	// Distinct members are counted over the whole span again; the rest of
	// the total is the sum of the steps.
	if err := t.kpiActive(ctx, whole, q, func(k int) *reports.KPICounts { return at(total, k) }); err != nil {
		return nil, err
	}
	if err := t.kpiBalances(ctx, bounds, q, func(k int) *reports.KPICounts { return at(steps, k) }); err != nil {
		return nil, err
	}
	sum := at(total, 0)
	n := len(bounds) - 1
	var members, outstanding int64
	out := make([]reports.KPICounts, 0, n+1)
	for k := range n {
		c := at(steps, k)
		// kpiBalances left the counts before the span in Members and
		// Outstanding of step -1 and each step's own change in the step:
		// a running sum gives the value at each step's end.
		members += c.Members
		outstanding += c.Outstanding
		c.Members, c.Outstanding = members, outstanding
		sum.NewMembers += c.NewMembers
		sum.Purchases += c.Purchases
		sum.MemberPurchases += c.MemberPurchases
		sum.Turnover += c.Turnover
		sum.Lines += c.Lines
		sum.Units += c.Units
		sum.Issued += c.Issued
		sum.Spent += c.Spent
		sum.Expired += c.Expired
		out = append(out, *c)
	}
	if before := steps[-1]; before != nil {
		for i := range out {
			out[i].Members += before.Members
			out[i].Outstanding += before.Outstanding
		}
	}
	sum.Members, sum.Outstanding = out[n-1].Members, out[n-1].Outstanding
	sum.Step = -1
	return append(out, *sum), nil
}

// kpiSales counts purchases, turnover, baskets, active and repeat members
// and the points posted, per step of bounds.
func (t *Tx) kpiSales(ctx context.Context, bounds []time.Time, q reports.KPIQuery, at func(int) *reports.KPICounts) error {
	from, to := micros(bounds[0]), micros(bounds[len(bounds)-1])
	filter, fargs := kpiFilter("p", q, 3)
	args := append([]any{from, to}, fargs...)
	rows, err := t.query(ctx, `WITH pur AS (
			SELECT p.member_id, p.status, `+bucketOf("p.occurred_at", bounds)+` AS k,
				SUM(`+netAmount+`) AS net, COUNT(*) AS lines, SUM(l.quantity - l.refunded) AS units
			FROM purchases p JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.status <> 'cancelled' AND p.occurred_at >= $1 AND p.occurred_at < $2`+filter+`
			GROUP BY p.receipt_id, p.partner_id, p.member_id, p.status, p.occurred_at
		)
		SELECT k, SUM(CASE WHEN status <> 'return' THEN 1 ELSE 0 END),
			SUM(CASE WHEN status <> 'return' AND member_id <> '' THEN 1 ELSE 0 END),
			CAST(SUM(CASE WHEN status = 'return' THEN -net ELSE net END) AS BIGINT),
			CAST(SUM(CASE WHEN status <> 'return' THEN lines ELSE 0 END) AS BIGINT),
			CAST(SUM(CASE WHEN status <> 'return' THEN units ELSE 0 END) AS BIGINT)
		FROM pur GROUP BY k`, args...)
	if err := each(rows, err, "kpis", func(s Scanner) error {
		var k int
		var c reports.KPICounts
		if err := s.Scan(&k, &c.Purchases, &c.MemberPurchases, &c.Turnover, &c.Lines, &c.Units); err != nil {
			return err
		}
		d := at(k)
		d.Purchases, d.MemberPurchases, d.Turnover, d.Lines, d.Units = c.Purchases, c.MemberPurchases, c.Turnover, c.Lines, c.Units
		return nil
	}); err != nil {
		return err
	}
	if err := t.kpiActive(ctx, bounds, q, at); err != nil {
		return err
	}
	tfilter, targs := kpiFilter("t", q, 3)
	rows, err = t.query(ctx, `SELECT `+bucketOf("t.created_at", bounds)+` AS k,
			COALESCE(SUM(CASE WHEN p.account = 'issuance' THEN -p.amount ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN p.account = 'redemption' THEN p.amount ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN p.account = 'expiry' THEN p.amount ELSE 0 END), 0)
		FROM transactions t JOIN postings p ON p.tx_id = t.id
		WHERE t.created_at >= $1 AND t.created_at < $2 AND p.account IN ('issuance', 'redemption', 'expiry')`+tfilter+`
		GROUP BY 1`, append([]any{from, to}, targs...)...)
	return each(rows, err, "kpis", func(s Scanner) error {
		var k int
		var c reports.KPICounts
		if err := s.Scan(&k, &c.Issued, &c.Spent, &c.Expired); err != nil {
			return err
		}
		d := at(k)
		d.Issued, d.Spent, d.Expired = c.Issued, c.Spent, c.Expired
		return nil
	})
}

// kpiActive counts the members with a purchase, and with two or more, per
// step of bounds.
func (t *Tx) kpiActive(ctx context.Context, bounds []time.Time, q reports.KPIQuery, at func(int) *reports.KPICounts) error {
	filter, fargs := kpiFilter("p", q, 3)
	rows, err := t.query(ctx, `SELECT k, COUNT(*), SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END) FROM (
			SELECT k, member_id, COUNT(*) AS n FROM (
				SELECT `+bucketOf("p.occurred_at", bounds)+` AS k, p.member_id FROM purchases p
				WHERE p.member_id <> '' AND p.`+sale+` AND p.occurred_at >= $1 AND p.occurred_at < $2`+filter+`
			) y GROUP BY k, member_id
		) x GROUP BY k`, append([]any{micros(bounds[0]), micros(bounds[len(bounds)-1])}, fargs...)...)
	return each(rows, err, "kpis", func(s Scanner) error {
		var k int
		var active, repeat int64
		if err := s.Scan(&k, &active, &repeat); err != nil {
			return err
		}
		at(k).Active, at(k).Repeat = active, repeat
		return nil
	})
}

// kpiBalances counts new members and the change of the points members hold,
// per step of bounds, and both before the span (step -1). A store's or
// partner's view has neither.
func (t *Tx) kpiBalances(ctx context.Context, bounds []time.Time, q reports.KPIQuery, at func(int) *reports.KPICounts) error {
	if q.StoreID != "" || q.PartnerID != "" {
		return nil
	}
	from, to := micros(bounds[0]), micros(bounds[len(bounds)-1])
	step := `CASE WHEN %[1]s < $1 THEN -1 ELSE ` + bucketOf("%[1]s", bounds) + ` END`
	seg, sargs := "", []any{}
	if q.Segment != "" {
		seg, sargs = " AND m.tags LIKE $3", []any{`%"rfm:` + q.Segment + `"%`}
	}
	rows, err := t.query(ctx, `SELECT k, COUNT(*) FROM (
			SELECT `+fmt.Sprintf(step, "m.created_at")+` AS k FROM members m
			WHERE m.status <> 'erased' AND m.created_at < $2`+seg+`
		) x GROUP BY k`, append([]any{from, to}, sargs...)...)
	if err := each(rows, err, "kpis", func(s Scanner) error {
		var k int
		var n int64
		if err := s.Scan(&k, &n); err != nil {
			return err
		}
		at(k).Members = n
		if k >= 0 {
			at(k).NewMembers = n
		}
		return nil
	}); err != nil {
		return err
	}
	if seg != "" {
		seg = " AND t.member_id IN (SELECT m.id FROM members m WHERE m.tags LIKE $3)"
	}
	rows, err = t.query(ctx, `SELECT k, CAST(SUM(amount) AS BIGINT) FROM (
			SELECT `+fmt.Sprintf(step, "t.created_at")+` AS k, p.amount FROM transactions t JOIN postings p ON p.tx_id = t.id
			WHERE t.created_at < $2 AND p.account IN ('available', 'pending')`+seg+`
		) x GROUP BY k`, append([]any{from, to}, sargs...)...)
	return each(rows, err, "kpis", func(s Scanner) error {
		var k int
		var n int64
		if err := s.Scan(&k, &n); err != nil {
			return err
		}
		at(k).Outstanding = n
		return nil
	})
}

// each scans every row with fn and closes them.
func each(rows Rows, err error, what string, fn func(Scanner) error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return rows.Err()
}

func (t *Tx) PurchaseTimes(ctx context.Context, to time.Time, fn func(reports.Purchases) error) error {
	rows, err := t.query(ctx, `SELECT p.member_id, p.occurred_at, COALESCE((SELECT SUM(`+netAmount+`) FROM purchase_lines l
			WHERE l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id), 0)
		FROM purchases p WHERE p.member_id <> '' AND p.`+sale+` AND p.occurred_at < $1
		ORDER BY p.member_id, p.occurred_at`, micros(to))
	if err != nil {
		return fmt.Errorf("member purchases: %w", err)
	}
	defer rows.Close()
	var cur reports.Purchases
	for rows.Next() {
		var id string
		var at, money int64
		if err := rows.Scan(&id, &at, &money); err != nil {
			return fmt.Errorf("member purchases: %w", err)
		}
		if id != cur.MemberID && cur.MemberID != "" {
			if err := fn(cur); err != nil {
				return err
			}
			cur = reports.Purchases{}
		}
		cur.MemberID = id
		cur.Times = append(cur.Times, fromMicros(at))
		cur.Money += money
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur.MemberID != "" {
		return fn(cur)
	}
	return nil
}

func (t *Tx) MemberTags(ctx context.Context, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	for c := range chunks(len(ids), importChunk) {
		part := ids[c.from:c.to]
		rows, err := t.query(ctx, `SELECT id, tags FROM members WHERE status <> 'erased' AND id IN (`+t.inList(len(part), 1)+`)`, anys(part)...)
		if err := each(rows, err, "member tags", func(s Scanner) error {
			var id, raw string
			if err := s.Scan(&id, &raw); err != nil {
				return err
			}
			var tags []string
			if err := json.Unmarshal([]byte(raw), &tags); err != nil {
				return err
			}
			out[id] = tags
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) TaggedMembers(ctx context.Context, prefixes []string, after string, limit int) ([]string, error) {
	var cond []string
	args := []any{after, limit}
	for _, p := range prefixes {
		args = append(args, `%"`+p+`%`)
		cond = append(cond, fmt.Sprintf("tags LIKE $%d", len(args)))
	}
	return t.ids(ctx, `SELECT id FROM members WHERE id > $1 AND (`+strings.Join(cond, " OR ")+`) ORDER BY id LIMIT $2`, args...)
}

func (t *Tx) SetMemberTags(ctx context.Context, id string, tags []string) error {
	raw, _ := json.Marshal(nonNil(tags))
	n, err := t.execNow(ctx, `UPDATE members SET tags = $2 WHERE id = $1`, id, string(raw))
	if err != nil {
		return t.mapErr(err, "member")
	}
	return mustAffect(n, "member")
}

func (t *Tx) InsertMemberEvent(ctx context.Context, e reports.MemberEvent) error {
	_, err := t.execNow(ctx, `INSERT INTO member_events (id, member_id, kind, data, created_at) VALUES ($1, $2, $3, $4, $5)`,
		e.ID, e.MemberID, e.Kind, string(e.Data), micros(e.CreatedAt))
	return t.mapErr(err, "member event")
}

func (t *Tx) MemberRefs(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for c := range chunks(len(ids), importChunk) {
		part := ids[c.from:c.to]
		rows, err := t.query(ctx, `SELECT member_id, source, external_id FROM member_refs WHERE member_id IN (`+t.inList(len(part), 1)+`)`, anys(part)...)
		if err := each(rows, err, "member refs", func(s Scanner) error {
			var id, src, ext string
			if err := s.Scan(&id, &src, &ext); err != nil {
				return err
			}
			out[id] = src + ":" + ext
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) Baskets(ctx context.Context, from, to time.Time, categories bool, fn func(items []string) error) error {
	col := "l.sku"
	if categories {
		col = "l.category"
	}
	rows, err := t.query(ctx, `SELECT p.receipt_id, p.partner_id, `+col+` FROM purchases p
		JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
		WHERE p.`+sale+` AND p.occurred_at >= $1 AND p.occurred_at < $2 AND `+col+` <> ''
		ORDER BY p.receipt_id, p.partner_id`, micros(from), micros(to))
	if err != nil {
		return fmt.Errorf("baskets: %w", err)
	}
	defer rows.Close()
	var curR, curP string
	var items []string
	for rows.Next() {
		var r, p, item string
		if err := rows.Scan(&r, &p, &item); err != nil {
			return fmt.Errorf("baskets: %w", err)
		}
		if (r != curR || p != curP) && items != nil {
			if err := fn(items); err != nil {
				return err
			}
			items = nil
		}
		curR, curP = r, p
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if items != nil {
		return fn(items)
	}
	return nil
}

func (t *Tx) MemberItems(ctx context.Context, memberID string, from, to time.Time, categories bool) ([]reports.ItemDays, error) {
	var n int
	if err := t.row(ctx, `SELECT COUNT(*) FROM members WHERE id = $1`, memberID).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, notFound(sql.ErrNoRows, "member")
	}
	col := "l.sku"
	if categories {
		col = "l.category"
	}
	rows, err := t.query(ctx, `SELECT `+col+`, p.occurred_at FROM purchases p
		JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
		WHERE p.member_id = $1 AND p.`+sale+` AND p.occurred_at >= $2 AND p.occurred_at < $3 AND `+col+` <> ''
		ORDER BY 1, 2 LIMIT 100000`, memberID, micros(from), micros(to))
	var out []reports.ItemDays
	err = each(rows, err, "member items", func(s Scanner) error {
		var item string
		var at int64
		if err := s.Scan(&item, &at); err != nil {
			return err
		}
		if len(out) == 0 || out[len(out)-1].Item != item {
			out = append(out, reports.ItemDays{Item: item})
		}
		last := &out[len(out)-1]
		last.Times = append(last.Times, fromMicros(at))
		return nil
	})
	return out, err
}

func (t *Tx) MembersAfter(ctx context.Context, after string, limit int) ([]kopilka.Member, error) {
	ids, err := t.ids(ctx, `SELECT id FROM members WHERE id > $1 AND status = 'active' ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]kopilka.Member, 0, len(ids))
	for _, id := range ids {
		m, err := t.Member(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (t *Tx) CampaignTargets(ctx context.Context, campaignID string) (map[string]bool, time.Time, error) {
	var at int64
	err := t.row(ctx, `SELECT taken_at FROM campaign_snapshots WHERE campaign_id = $1`, campaignID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("campaign snapshot: %w", err)
	}
	out := map[string]bool{}
	rows, err := t.query(ctx, `SELECT member_id, held_out FROM campaign_targets WHERE campaign_id = $1`, campaignID)
	err = each(rows, err, "campaign targets", func(s Scanner) error {
		var id string
		var held int64
		if err := s.Scan(&id, &held); err != nil {
			return err
		}
		out[id] = held == 1
		return nil
	})
	return out, fromMicros(at), err
}

func (t *Tx) FreezeTargets(ctx context.Context, campaignID string, targets map[string]bool, at time.Time) error {
	n, err := t.execNow(ctx, `INSERT INTO campaign_snapshots (campaign_id, members, taken_at) VALUES ($1, $2, $3)
		ON CONFLICT (campaign_id) DO NOTHING`, campaignID, len(targets), micros(at))
	if err != nil {
		return t.mapErr(err, "campaign snapshot")
	}
	if n == 0 {
		return nil // frozen already
	}
	ids := slices.Sorted(maps.Keys(targets))
	for c := range chunks(len(ids), importChunk) {
		part := ids[c.from:c.to]
		args := make([]any, 0, 3*len(part))
		for _, id := range part {
			args = append(args, campaignID, id, boolInt(targets[id]))
		}
		if _, err := t.execNow(ctx, `INSERT INTO campaign_targets (campaign_id, member_id, held_out) VALUES `+t.rowValues(len(part), 3), args...); err != nil {
			return t.mapErr(err, "campaign targets")
		}
	}
	return nil
}

func (t *Tx) MemberTotals(ctx context.Context, from, to time.Time) (map[string][2]int64, error) {
	out := map[string][2]int64{}
	rows, err := t.query(ctx, `SELECT member_id, SUM(CASE WHEN status = 'return' THEN 0 ELSE 1 END),
			CAST(SUM(CASE WHEN status = 'return' THEN -net ELSE net END) AS BIGINT) FROM (
			SELECT p.member_id, p.status, SUM(`+netAmount+`) AS net
			FROM purchases p JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.member_id <> '' AND p.status <> 'cancelled' AND p.occurred_at >= $1 AND p.occurred_at < $2
			GROUP BY p.receipt_id, p.partner_id, p.member_id, p.status
		) x GROUP BY member_id`, micros(from), micros(to))
	err = each(rows, err, "member totals", func(s Scanner) error {
		var id string
		var n, money int64
		if err := s.Scan(&id, &n, &money); err != nil {
			return err
		}
		out[id] = [2]int64{n, money}
		return nil
	})
	return out, err
}

func (t *Tx) CampaignPoints(ctx context.Context, campaignID string, from, to time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	rows, err := t.query(ctx, `SELECT member_id, quote FROM purchases
		WHERE occurred_at >= $1 AND occurred_at < $2 AND status <> 'cancelled' AND quote LIKE $3`,
		micros(from), micros(to), `%"campaign":`+jsonString(campaignID)+`%`)
	err = each(rows, err, "campaign points", func(s Scanner) error {
		var id, raw string
		if err := s.Scan(&id, &raw); err != nil {
			return err
		}
		var q kopilka.Quote
		if err := json.Unmarshal([]byte(raw), &q); err != nil {
			return err
		}
		for _, r := range q.Rules {
			if r.Campaign == campaignID {
				out[id] += r.Points
			}
		}
		for _, a := range q.Awards {
			if a.Campaign == campaignID {
				out[id] += a.Points
			}
		}
		return nil
	})
	return out, err
}

// jsonString is s as a JSON string, quotes included.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
