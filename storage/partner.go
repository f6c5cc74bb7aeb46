package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

func nullPercent(p *kopilka.Percent) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func fromNullPercent(v sql.NullInt64) *kopilka.Percent {
	if !v.Valid {
		return nil
	}
	p := kopilka.Percent(v.Int64)
	return &p
}

func (t *Tx) PutPartner(ctx context.Context, p kopilka.Partner) error {
	cats, _ := json.Marshal(nonNil(p.Categories))
	_, err := t.execNow(ctx, `INSERT INTO partners (id, name, legal_id, status, earn_rate, max_spend, categories, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, legal_id = excluded.legal_id, status = excluded.status,
			earn_rate = excluded.earn_rate, max_spend = excluded.max_spend, categories = excluded.categories,
			updated_at = excluded.updated_at`,
		p.ID, p.Name, p.LegalID, p.Status, nullPercent(p.EarnRate), nullPercent(p.MaxSpend), string(cats),
		micros(p.CreatedAt), micros(p.UpdatedAt))
	return t.mapErr(err, "partner")
}

const partnerColumns = `id, name, legal_id, status, earn_rate, max_spend, categories, created_at, updated_at`

func scanPartner(s Scanner) (kopilka.Partner, error) {
	var p kopilka.Partner
	var earn, spend sql.NullInt64
	var cats string
	var created, updated int64
	if err := s.Scan(&p.ID, &p.Name, &p.LegalID, &p.Status, &earn, &spend, &cats, &created, &updated); err != nil {
		return p, err
	}
	p.EarnRate, p.MaxSpend, p.CreatedAt, p.UpdatedAt = fromNullPercent(earn), fromNullPercent(spend), fromMicros(created), fromMicros(updated)
	return p, json.Unmarshal([]byte(cats), &p.Categories)
}

func (t *Tx) Partner(ctx context.Context, id string) (kopilka.Partner, error) {
	p, err := scanPartner(t.row(ctx, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id))
	return p, notFound(err, "partner")
}

func (t *Tx) Partners(ctx context.Context) ([]kopilka.Partner, error) {
	rows, err := t.query(ctx, `SELECT `+partnerColumns+` FROM partners ORDER BY id`)
	return collect(rows, err, "partners", scanPartner)
}

func (t *Tx) PutStore(ctx context.Context, o kopilka.Store) error {
	hours, _ := json.Marshal(o.Hours)
	_, err := t.execNow(ctx, `INSERT INTO stores (id, partner_id, name, address, lat, lon, time_zone, hours, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, address = excluded.address, lat = excluded.lat,
			lon = excluded.lon, time_zone = excluded.time_zone, hours = excluded.hours, status = excluded.status,
			updated_at = excluded.updated_at`,
		o.ID, o.PartnerID, o.Name, o.Address, nullFloat(o.Lat), nullFloat(o.Lon), o.TimeZone, string(hours), o.Status,
		micros(o.CreatedAt), micros(o.UpdatedAt))
	return t.mapErr(err, "store")
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}

const storeColumns = `s.id, s.partner_id, s.name, s.address, s.lat, s.lon, s.time_zone, s.hours, s.status, s.created_at, s.updated_at`

func scanStore(s Scanner, extra ...any) (kopilka.Store, error) {
	var o kopilka.Store
	var lat, lon sql.NullFloat64
	var hours string
	var created, updated int64
	if err := s.Scan(append([]any{&o.ID, &o.PartnerID, &o.Name, &o.Address, &lat, &lon, &o.TimeZone, &hours, &o.Status, &created, &updated}, extra...)...); err != nil {
		return o, err
	}
	if lat.Valid && lon.Valid {
		o.Lat, o.Lon = &lat.Float64, &lon.Float64
	}
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return o, json.Unmarshal([]byte(hours), &o.Hours)
}

func (t *Tx) Store(ctx context.Context, id string) (kopilka.Store, error) {
	o, err := scanStore(t.row(ctx, `SELECT `+storeColumns+` FROM stores s WHERE s.id = $1`, id))
	return o, notFound(err, "store")
}

func (t *Tx) Stores(ctx context.Context, partnerID string, storeIDs []string, after string, limit int) ([]kopilka.Store, error) {
	q := `SELECT ` + storeColumns + ` FROM stores s WHERE s.id > $1`
	args := []any{after}
	if partnerID != "" {
		args = append(args, partnerID)
		q += fmt.Sprintf(` AND s.partner_id = $%d`, len(args))
	}
	if len(storeIDs) > 0 {
		marks := make([]string, len(storeIDs))
		for i, id := range storeIDs {
			args = append(args, id)
			marks[i] = fmt.Sprintf("$%d", len(args))
		}
		q += ` AND s.id IN (` + strings.Join(marks, ", ") + `)`
	}
	rows, err := t.query(ctx, q+fmt.Sprintf(` ORDER BY s.id LIMIT %d`, limit), args...)
	return collect(rows, err, "stores", func(s Scanner) (kopilka.Store, error) { return scanStore(s) })
}

func (t *Tx) StoresIn(ctx context.Context, b kopilka.Box, partnerID string, limit int) ([]kopilka.Store, error) {
	q := `SELECT ` + storeColumns + `, p.categories FROM stores s JOIN partners p ON p.id = s.partner_id
		WHERE s.lat BETWEEN $1 AND $2 AND s.lon BETWEEN $3 AND $4 AND s.status = 'open' AND p.status = 'active'`
	args := []any{b.MinLat, b.MaxLat, b.MinLon, b.MaxLon}
	if partnerID != "" {
		q += ` AND s.partner_id = $5`
		args = append(args, partnerID)
	}
	rows, err := t.query(ctx, q+fmt.Sprintf(` LIMIT %d`, limit), args...)
	return collect(rows, err, "stores", func(s Scanner) (kopilka.Store, error) {
		var cats string
		o, err := scanStore(s, &cats)
		if err != nil {
			return o, err
		}
		return o, json.Unmarshal([]byte(cats), &o.Categories)
	})
}

func (t *Tx) PartnerEntries(ctx context.Context, partnerID string, from, to time.Time, after *kopilka.Cursor, limit int) ([]kopilka.PartnerEntry, error) {
	q := `SELECT t.id, t.kind, t.receipt_id, t.refund_id, t.store_id, t.created_at,
			COALESCE(SUM(CASE WHEN p.account = 'issuance' THEN -p.amount ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN p.account = 'redemption' THEN p.amount ELSE 0 END), 0)
		FROM transactions t LEFT JOIN postings p ON p.tx_id = t.id
		WHERE t.partner_id = $1 AND t.created_at >= $2 AND t.created_at < $3`
	args := []any{partnerID, micros(from), micros(to)}
	if after != nil {
		q += ` AND (t.created_at > $4 OR (t.created_at = $4 AND t.id > $5))`
		args = append(args, micros(after.CreatedAt), after.ID)
	}
	q += fmt.Sprintf(` GROUP BY t.id, t.kind, t.receipt_id, t.refund_id, t.store_id, t.created_at
		ORDER BY t.created_at, t.id LIMIT %d`, limit)
	rows, err := t.query(ctx, q, args...)
	return collect(rows, err, "partner entries", func(s Scanner) (kopilka.PartnerEntry, error) {
		var e kopilka.PartnerEntry
		var receipt, refund, store sql.NullString
		var at int64
		err := s.Scan(&e.TxID, &e.Kind, &receipt, &refund, &store, &at, &e.Issued, &e.Redeemed)
		e.ReceiptID, e.RefundID, e.StoreID, e.At = receipt.String, refund.String, store.String, fromMicros(at)
		return e, err
	})
}

func (t *Tx) InsertSettlement(ctx context.Context, st kopilka.Statement) error {
	st.Entries = nil
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = t.execNow(ctx, `INSERT INTO settlements (partner_id, period, statement, closed_at) VALUES ($1, $2, $3, $4)`,
		st.PartnerID, st.Period, string(raw), micros(*st.ClosedAt))
	return t.mapErr(err, "settlement")
}

func (t *Tx) Settlement(ctx context.Context, partnerID, period string) (kopilka.Statement, error) {
	var raw string
	err := t.row(ctx, `SELECT statement FROM settlements WHERE partner_id = $1 AND period = $2`, partnerID, period).Scan(&raw)
	if err != nil {
		return kopilka.Statement{}, notFound(err, "settlement")
	}
	var st kopilka.Statement
	return st, json.Unmarshal([]byte(raw), &st)
}

// Settlements returns the partner's closed statements, newest period
// first, without their entries.
func (t *Tx) Settlements(ctx context.Context, partnerID string) ([]kopilka.Statement, error) {
	rows, err := t.query(ctx, `SELECT statement FROM settlements WHERE partner_id = $1 ORDER BY period DESC LIMIT 240`, partnerID)
	return collect(rows, err, "settlements", func(s Scanner) (kopilka.Statement, error) {
		var raw string
		var st kopilka.Statement
		if err := s.Scan(&raw); err != nil {
			return st, err
		}
		err := json.Unmarshal([]byte(raw), &st)
		st.Entries = nil
		return st, err
	})
}
