package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/importer"
)

// importChunk bounds the rows of one multi-row INSERT: with at most 18
// columns it stays under SQLite's 32,766 parameters.
const importChunk = 1000

// rowValues is values(rows, n, 1) for a statement whose only placeholders
// are these, in order. SQLite gets anonymous "?"s: it looks "$n" up by
// name in a list, so a statement of 10,000 of them spends its time there.
func (t *Tx) rowValues(rows, n int) string {
	if t.d.Name != "sqlite" {
		return values(rows, n, 1)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// inList returns "$start, $start+1, …" for n values, the last placeholders
// of the statement (SQLite: "?"s, see rowValues).
func (t *Tx) inList(n, start int) string {
	if t.d.Name == "sqlite" {
		return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
	}
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", start+i)
	}
	return b.String()
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (t *Tx) EnsureStores(ctx context.Context, partnerID string, ids []string, zone string, at time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var added int64
	for c := range chunks(len(ids), importChunk) {
		part := ids[c.from:c.to]
		args := make([]any, 0, 11*len(part))
		for _, id := range part {
			args = append(args, id, partnerID, id, "", nil, nil, zone, "[]", kopilka.StoreOpen, micros(at), micros(at))
		}
		n, err := t.execNow(ctx, `INSERT INTO stores (id, partner_id, name, address, lat, lon, time_zone, hours, status, created_at, updated_at)
			VALUES `+t.rowValues(len(part), 11)+` ON CONFLICT (id) DO NOTHING`, args...)
		if err != nil {
			return 0, t.mapErr(err, "store")
		}
		added += n
		other, err := t.ids(ctx, `SELECT id FROM stores WHERE partner_id <> $1 AND id IN (`+t.inList(len(part), 2)+`) ORDER BY id LIMIT 1`,
			append([]any{partnerID}, anys(part)...)...)
		if err != nil {
			return 0, err
		}
		if len(other) > 0 {
			return 0, kopilka.FieldErr(kopilka.ECONFLICT, "store", fmt.Sprintf("store %s is another partner's", other[0]))
		}
	}
	return int(added), nil
}

func (t *Tx) EnsureMembers(ctx context.Context, source string, refs []importer.MemberRef) (int, error) {
	var added int64
	for c := range chunks(len(refs), importChunk/2) {
		part := refs[c.from:c.to]
		ids := make([]string, len(part))
		for i, r := range part {
			ids[i] = r.MemberID
		}
		existing := map[string]bool{}
		have, err := t.ids(ctx, `SELECT id FROM members WHERE id IN (`+t.inList(len(ids), 1)+`)`, anys(ids)...)
		if err != nil {
			return 0, err
		}
		for _, id := range have {
			existing[id] = true
		}
		var args, bal, ref []any
		rows := 0
		for _, r := range part {
			if existing[r.MemberID] {
				// Seen before (an earlier run, or earlier in this one): a first
				// purchase found earlier moves the member's start back.
				if _, err := t.execNow(ctx, `UPDATE members SET created_at = $2 WHERE id = $1 AND created_at > $2`,
					r.MemberID, micros(r.FirstAt)); err != nil {
					return 0, t.mapErr(err, "member")
				}
				continue
			}
			m := kopilka.Member{ID: r.MemberID, Status: kopilka.StatusActive, CreatedAt: r.FirstAt}
			args = append(args, m.ID, micros(m.CreatedAt))
			args = append(args, memberArgs(m)...)
			bal = append(bal, m.ID)
			ref = append(ref, source, r.ExternalID, m.ID)
			rows++
		}
		if rows == 0 {
			continue
		}
		n, err := t.execNow(ctx, `INSERT INTO members (id, created_at, `+memberColumns+`) VALUES `+t.rowValues(rows, 18)+
			` ON CONFLICT (id) DO NOTHING`, args...)
		if err != nil {
			return 0, t.mapErr(err, "member")
		}
		added += n
		if _, err := t.execNow(ctx, `INSERT INTO balances (member_id, available, pending) VALUES `+
			strings.ReplaceAll(t.rowValues(rows, 1), ")", ", 0, 0)")+` ON CONFLICT (member_id) DO NOTHING`, bal...); err != nil {
			return 0, t.mapErr(err, "balance")
		}
		if _, err := t.execNow(ctx, `INSERT INTO member_refs (source, external_id, member_id) VALUES `+t.rowValues(rows, 3)+
			` ON CONFLICT (source, external_id) DO NOTHING`, ref...); err != nil {
			return 0, t.mapErr(err, "member reference")
		}
	}
	return int(added), nil
}

func (t *Tx) StoredReceipts(ctx context.Context, partnerID string, receiptIDs []string) (map[string]*importer.Stored, error) {
	out := map[string]*importer.Stored{}
	for c := range chunks(len(receiptIDs), importChunk) {
		part := receiptIDs[c.from:c.to]
		rows, err := t.query(ctx, `SELECT p.receipt_id, p.request_hash, l.line FROM purchases p
			JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
			WHERE p.partner_id = $1 AND p.receipt_id IN (`+t.inList(len(part), 2)+`)`, append([]any{partnerID}, anys(part)...)...)
		if err != nil {
			return nil, fmt.Errorf("stored receipts: %w", err)
		}
		for rows.Next() {
			var id, hash string
			var line int
			if err := rows.Scan(&id, &hash, &line); err != nil {
				rows.Close()
				return nil, err
			}
			st := out[id]
			if st == nil {
				st = &importer.Stored{Hash: hash, Lines: map[int]bool{}}
				out[id] = st
			}
			st.Lines[line] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) InsertPurchases(ctx context.Context, ps []*kopilka.Purchase) error {
	for c := range chunks(len(ps), importChunk) {
		part := ps[c.from:c.to]
		args := make([]any, 0, 14*len(part))
		for _, p := range part {
			quote, _ := json.Marshal(p.Quote)
			args = append(args, p.ReceiptID, p.MemberID, p.StoreID, nullString(p.CardNumber), p.RequestHash, p.Status, p.TxID,
				nullString(p.EarnLotID), "[]", string(quote), micros(p.OccurredAt), micros(p.CreatedAt), p.EarnedReversed, p.PartnerID)
		}
		if _, err := t.execNow(ctx, `INSERT INTO purchases
			(receipt_id, member_id, store_id, card_number, request_hash, status, tx_id, earn_lot_id, spends, quote, occurred_at, created_at, earned_reversed, partner_id)
			VALUES `+t.rowValues(len(part), 14), args...); err != nil {
			return t.mapErr(err, "purchase")
		}
	}
	var lines []lineOf
	for _, p := range ps {
		for _, l := range p.Lines {
			lines = append(lines, lineOf{p.ReceiptID, p.PartnerID, l})
		}
	}
	return t.insertLines(ctx, lines)
}

type lineOf struct {
	receipt, partner string
	kopilka.PurchaseLine
}

func (t *Tx) insertLines(ctx context.Context, lines []lineOf) error {
	for c := range chunks(len(lines), importChunk) {
		part := lines[c.from:c.to]
		args := make([]any, 0, 11*len(part))
		for _, l := range part {
			args = append(args, l.receipt, l.partner, l.Line.Line, l.SKU, l.Category, int64(l.Quantity), l.Price, l.Amount, l.Earned, l.Spent, int64(l.Refunded))
		}
		if _, err := t.execNow(ctx, `INSERT INTO purchase_lines
			(receipt_id, partner_id, line, sku, category, quantity, price, amount, earned, spent, refunded) VALUES `+t.rowValues(len(part), 11), args...); err != nil {
			return t.mapErr(err, "purchase line")
		}
	}
	return nil
}

func (t *Tx) AddPurchaseLines(ctx context.Context, partnerID, receiptID string, lines []kopilka.PurchaseLine, amount int64) error {
	var raw string
	if err := t.row(ctx, `SELECT quote FROM purchases WHERE receipt_id = $1 AND partner_id = $2`, receiptID, partnerID).Scan(&raw); err != nil {
		return notFound(err, "purchase")
	}
	var q kopilka.Quote
	if err := json.Unmarshal([]byte(raw), &q); err != nil {
		return fmt.Errorf("purchase %s quote: %w", receiptID, err)
	}
	if amount < 0 {
		amount = -amount // a return's total is what came back
	}
	q.Total += amount
	q.Paid += amount
	quote, _ := json.Marshal(q)
	if _, err := t.execNow(ctx, `UPDATE purchases SET quote = $3 WHERE receipt_id = $1 AND partner_id = $2`, receiptID, partnerID, string(quote)); err != nil {
		return t.mapErr(err, "purchase")
	}
	out := make([]lineOf, len(lines))
	for i, l := range lines {
		out[i] = lineOf{receiptID, partnerID, l}
	}
	return t.insertLines(ctx, out)
}

func (t *Tx) Returnable(ctx context.Context, partnerID, memberID, sku string, at time.Time, limit int) ([]importer.ReturnableLine, error) {
	rows, err := t.query(ctx, `SELECT l.receipt_id, l.line, l.quantity - l.refunded FROM purchases p
		JOIN purchase_lines l ON l.receipt_id = p.receipt_id AND l.partner_id = p.partner_id
		WHERE p.member_id = $1 AND p.occurred_at <= $2 AND p.partner_id = $3 AND p.status = $4
			AND l.sku = $5 AND l.refunded < l.quantity
		ORDER BY p.occurred_at DESC, l.receipt_id DESC, l.line LIMIT $6`,
		memberID, micros(at), partnerID, kopilka.PurchaseConfirmed, sku, limit)
	return collect(rows, err, "returnable lines", func(s Scanner) (importer.ReturnableLine, error) {
		var r importer.ReturnableLine
		var left int64
		err := s.Scan(&r.ReceiptID, &r.Line, &left)
		r.Left = kopilka.Quantity(left)
		return r, err
	})
}

func (t *Tx) ReturnUnits(ctx context.Context, partnerID, receiptID string, line int, units kopilka.Quantity) error {
	n, err := t.execNow(ctx, `UPDATE purchase_lines SET refunded = refunded + $4
		WHERE receipt_id = $1 AND partner_id = $2 AND line = $3`, receiptID, partnerID, line, int64(units))
	if err != nil {
		return t.mapErr(err, "purchase line")
	}
	if err := mustAffect(n, "purchase line"); err != nil {
		return err
	}
	_, err = t.execNow(ctx, `UPDATE purchases SET status = $3 WHERE receipt_id = $1 AND partner_id = $2
		AND NOT EXISTS (SELECT 1 FROM purchase_lines l WHERE l.receipt_id = $1 AND l.partner_id = $2 AND l.refunded < l.quantity)`,
		receiptID, partnerID, kopilka.PurchaseRefunded)
	return t.mapErr(err, "purchase")
}

// span is a chunk [from, to) of a slice.
type span struct{ from, to int }

// chunks yields the spans of n items, size at a time.
func chunks(n, size int) func(func(span) bool) {
	return func(yield func(span) bool) {
		for from := 0; from < n; from += size {
			if !yield(span{from, min(from+size, n)}) {
				return
			}
		}
	}
}

func (t *Tx) EnsureProducts(ctx context.Context, partnerID string, names map[string]string) error {
	if len(names) == 0 {
		return nil
	}
	skus := slices.Sorted(maps.Keys(names))
	for c := range chunks(len(skus), importChunk) {
		part := skus[c.from:c.to]
		args := make([]any, 0, 3*len(part))
		for _, sku := range part {
			args = append(args, partnerID, sku, names[sku])
		}
		if _, err := t.execNow(ctx, `INSERT INTO products (partner_id, sku, name) VALUES `+t.rowValues(len(part), 3)+
			` ON CONFLICT (partner_id, sku) DO NOTHING`, args...); err != nil {
			return t.mapErr(err, "product")
		}
	}
	return nil
}

func (t *Tx) ProductNames(ctx context.Context, skus []string) (map[string]string, error) {
	out := map[string]string{}
	for c := range chunks(len(skus), importChunk) {
		part := skus[c.from:c.to]
		rows, err := t.query(ctx, `SELECT sku, name FROM products WHERE sku IN (`+t.inList(len(part), 1)+`) ORDER BY partner_id`, anys(part)...)
		if err := each(rows, err, "product names", func(s Scanner) error {
			var sku, name string
			if err := s.Scan(&sku, &name); err != nil {
				return err
			}
			if _, ok := out[sku]; !ok {
				out[sku] = name
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (t *Tx) PutJob(ctx context.Context, j importer.Job) error {
	summary := string(j.Summary)
	if j.Error != "" {
		raw, _ := json.Marshal(map[string]any{"summary": j.Summary, "error": j.Error})
		summary = string(raw)
	}
	_, err := t.execNow(ctx, `INSERT INTO import_jobs (id, kind, status, summary, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, summary = excluded.summary, updated_at = excluded.updated_at`,
		j.ID, j.Kind, j.Status, summary, j.CreatedBy, micros(j.CreatedAt), micros(j.UpdatedAt))
	return t.mapErr(err, "import job")
}

func (t *Tx) Job(ctx context.Context, id string) (importer.Job, error) {
	var j importer.Job
	var summary string
	var created, updated int64
	err := t.row(ctx, `SELECT id, kind, status, summary, created_by, created_at, updated_at FROM import_jobs WHERE id = $1`, id).
		Scan(&j.ID, &j.Kind, &j.Status, &summary, &j.CreatedBy, &created, &updated)
	if err != nil {
		return j, notFound(err, "import job")
	}
	j.CreatedAt, j.UpdatedAt = fromMicros(created), fromMicros(updated)
	var failed struct {
		Summary json.RawMessage `json:"summary"`
		Error   string          `json:"error"`
	}
	if j.Status == "failed" && json.Unmarshal([]byte(summary), &failed) == nil && failed.Error != "" {
		j.Summary, j.Error = failed.Summary, failed.Error
	} else {
		j.Summary = json.RawMessage(summary)
	}
	return j, nil
}

func (t *Tx) RefundsWithID(ctx context.Context, partnerID, refundID string) ([]kopilka.RefundRecord, error) {
	rows, err := t.query(ctx, `SELECT receipt_id, partner_id, refund_id, request_hash, tx_id, result, created_at
		FROM refunds WHERE partner_id = $1 AND refund_id = $2 ORDER BY receipt_id LIMIT 1000`, partnerID, refundID)
	return collect(rows, err, "refunds", scanRefund)
}
