package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
)

// likePart makes text a LIKE pattern that matches it anywhere, its own
// wildcards escaped (with ESCAPE '\').
func likePart(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// SearchMembers returns a page of members matching q (see
// kopilka.MemberQuery), with their cards, and the sort key of each.
func (t *Tx) SearchMembers(ctx context.Context, q kopilka.MemberQuery) ([]kopilka.Member, []string, error) {
	// Text is compared folded: lower case in every alphabet, and ё as е (as
	// Russian is often written).
	foldSQL := func(col string) string { return "REPLACE(" + t.d.Fold + "(" + col + "), 'ё', 'е')" }
	foldGo := func(v string) string { return strings.ReplaceAll(strings.ToLower(v), "ё", "е") }
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	name := func(v string) string {
		return foldSQL("m.name") + " LIKE " + arg(likePart(foldGo(v))) + ` ESCAPE '\'`
	}
	email := func(v string) string {
		return "COALESCE(" + foldSQL("m.email") + ", '') LIKE " + arg(likePart(foldGo(v))) + ` ESCAPE '\'`
	}
	phone := func(digits string) string {
		return "COALESCE(m.phone, '') LIKE " + arg(likePart(digits)) + ` ESCAPE '\'`
	}
	card := func(digits string) string {
		if q.CardWhole {
			return "EXISTS (SELECT 1 FROM cards c WHERE c.member_id = m.id AND c.number = " + arg(digits) + ")"
		}
		return "EXISTS (SELECT 1 FROM cards c WHERE c.member_id = m.id AND c.number LIKE " + arg(digits+"%") + ")"
	}
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	if q.Q != "" {
		ors := []string{name(q.Q), email(q.Q)}
		if d := digits(q.Q); d != "" {
			ors = append(ors, phone(d), card(d))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if q.Name != "" {
		where = append(where, name(q.Name))
	}
	if q.Email != "" {
		where = append(where, email(q.Email))
	}
	if q.Phone != "" {
		where = append(where, phone(digits(q.Phone)))
	}
	if q.Card != "" {
		where = append(where, card(digits(q.Card)))
	}
	if q.Tier != "" {
		where = append(where, "COALESCE(m.tier, '') = "+arg(q.Tier))
	}
	if q.Status != "" {
		where = append(where, "m.status = "+arg(q.Status))
	}
	if q.Tag != "" {
		where = append(where, "m.tags LIKE "+arg(likePart(`"`+q.Tag+`"`))+` ESCAPE '\'`)
	}
	if !q.RegisteredFrom.IsZero() {
		where = append(where, "m.created_at >= "+arg(micros(q.RegisteredFrom)))
	}
	if !q.RegisteredTo.IsZero() {
		where = append(where, "m.created_at < "+arg(micros(q.RegisteredTo)))
	}
	// The last purchase in [from, to): one on or after from, none on or after to.
	if !q.LastPurchaseFrom.IsZero() {
		where = append(where, "EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = m.id AND p.status <> 'cancelled' AND p.occurred_at >= "+arg(micros(q.LastPurchaseFrom))+")")
	}
	if !q.LastPurchaseTo.IsZero() {
		where = append(where, "NOT EXISTS (SELECT 1 FROM purchases p WHERE p.member_id = m.id AND p.status <> 'cancelled' AND p.occurred_at >= "+arg(micros(q.LastPurchaseTo))+")")
	}
	key, order := "m.created_at", "DESC"
	if q.Sort == kopilka.SortName {
		key, order = foldSQL("m.name"), "ASC"
	}
	if a := q.After; a != nil {
		var k any = a.Key
		if q.Sort != kopilka.SortName {
			n, err := strconv.ParseInt(a.Key, 10, 64)
			if err != nil {
				return nil, nil, kopilka.Invalid("cursor", "is not a cursor of this list")
			}
			k = n
		}
		cmp := "<"
		if order == "ASC" {
			cmp = ">"
		}
		kv, idv := arg(k), arg(a.ID)
		where = append(where, fmt.Sprintf("(%s %s %s OR (%s = %s AND m.id %s %s))", key, cmp, kv, key, kv, cmp, idv))
	}
	sql := "SELECT m.id, " + key + " FROM members m"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += fmt.Sprintf(" ORDER BY %s %s, m.id %s LIMIT %d", key, order, order, q.Limit)
	rows, err := t.query(ctx, sql, args...)
	type hit struct{ id, key string }
	hits, err := collect(rows, err, "members", func(s Scanner) (hit, error) {
		var h hit
		var k any
		err := s.Scan(&h.id, &k)
		h.key = fmt.Sprint(k)
		if b, ok := k.([]byte); ok {
			h.key = string(b)
		}
		return h, err
	})
	if err != nil {
		return nil, nil, err
	}
	ms := make([]kopilka.Member, 0, len(hits))
	keys := make([]string, 0, len(hits))
	for _, h := range hits {
		m, err := t.Member(ctx, h.id)
		if err != nil {
			return nil, nil, err
		}
		ms = append(ms, m)
		keys = append(keys, h.key)
	}
	return ms, keys, nil
}

// ListPurchases returns a page of purchases matching q, newest first (by
// their time, then their ledger transaction), with their lines.
func (t *Tx) ListPurchases(ctx context.Context, q kopilka.PurchaseQuery) ([]*kopilka.Purchase, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	for _, f := range []struct{ col, v string }{{"member_id", q.MemberID}, {"store_id", q.StoreID}, {"partner_id", q.PartnerID}} {
		if f.v != "" {
			where = append(where, f.col+" = "+arg(f.v))
		}
	}
	if len(q.StoreIDs) > 0 {
		marks := make([]string, len(q.StoreIDs))
		for i, s := range q.StoreIDs {
			marks[i] = arg(s)
		}
		where = append(where, "store_id IN ("+strings.Join(marks, ", ")+")")
	}
	if !q.From.IsZero() {
		where = append(where, "occurred_at >= "+arg(micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "occurred_at < "+arg(micros(q.To)))
	}
	if a := q.After; a != nil {
		at, id := arg(micros(a.CreatedAt)), arg(a.ID)
		where = append(where, fmt.Sprintf("(occurred_at < %s OR (occurred_at = %s AND tx_id < %s))", at, at, id))
	}
	sql := "SELECT partner_id, receipt_id FROM purchases"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += fmt.Sprintf(" ORDER BY occurred_at DESC, tx_id DESC LIMIT %d", q.Limit)
	return t.purchasesOf(ctx, sql, args...)
}
