package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/kopilka/kopilka/cases"
)

const caseColumns = `id, member_id, kind, channel, subject, receipt_id, partner_id, status, resolution, opened_by, opened_at,
	resolved_by, resolved_at, first_contact, compensated, updated_at`

func caseArgs(c cases.Case) []any {
	return []any{c.ID, c.MemberID, c.Kind, c.Channel, c.Subject, c.ReceiptID, c.PartnerID, c.Status, c.Resolution, c.OpenedBy,
		micros(c.OpenedAt), c.ResolvedBy, ptrMicros(c.ResolvedAt), boolInt(c.FirstContact), c.Compensated, micros(c.UpdatedAt)}
}

func scanCase(s Scanner) (cases.Case, error) {
	var c cases.Case
	var opened, updated, first int64
	var resolved sql.NullInt64
	err := s.Scan(&c.ID, &c.MemberID, &c.Kind, &c.Channel, &c.Subject, &c.ReceiptID, &c.PartnerID, &c.Status, &c.Resolution,
		&c.OpenedBy, &opened, &c.ResolvedBy, &resolved, &first, &c.Compensated, &updated)
	c.OpenedAt, c.ResolvedAt, c.FirstContact, c.UpdatedAt = fromMicros(opened), fromPtrMicros(resolved), first != 0, fromMicros(updated)
	return c, err
}

// InsertCase stores a new case (its notes go in with AddCaseNote).
func (t *Tx) InsertCase(ctx context.Context, c cases.Case) error {
	_, err := t.execNow(ctx, `INSERT INTO cases (`+caseColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		caseArgs(c)...)
	return t.mapErr(err, "case")
}

// UpdateCase stores a case's status, resolution and sums.
func (t *Tx) UpdateCase(ctx context.Context, c cases.Case) error {
	n, err := t.execNow(ctx, `UPDATE cases SET status = $2, resolution = $3, resolved_by = $4, resolved_at = $5, first_contact = $6,
		compensated = $7, updated_at = $8 WHERE id = $1`,
		c.ID, c.Status, c.Resolution, c.ResolvedBy, ptrMicros(c.ResolvedAt), boolInt(c.FirstContact), c.Compensated, micros(c.UpdatedAt))
	if err != nil {
		return t.mapErr(err, "case")
	}
	return mustAffect(n, "case")
}

// AddCaseNote appends a note to a case's log.
func (t *Tx) AddCaseNote(ctx context.Context, caseID string, n cases.Note) error {
	_, err := t.execNow(ctx, `INSERT INTO case_notes (case_id, seq, at, actor, kind, text, tx_id, points) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		caseID, n.Seq, micros(n.At), n.Actor, n.Kind, n.Text, n.TxID, n.Points)
	return t.mapErr(err, "case note")
}

// Case reads a case with its notes, or ENOTFOUND.
func (t *Tx) Case(ctx context.Context, id string) (cases.Case, error) { return t.readCase(ctx, id, "") }

// LockCase reads a case with its notes and holds its row until the
// transaction ends (SQLite's one writer holds it anyway).
func (t *Tx) LockCase(ctx context.Context, id string) (cases.Case, error) {
	return t.readCase(ctx, id, t.lock())
}

func (t *Tx) readCase(ctx context.Context, id, lock string) (cases.Case, error) {
	c, err := scanCase(t.row(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`+lock, id))
	if err != nil {
		return c, notFound(err, "case")
	}
	rows, err := t.query(ctx, `SELECT seq, at, actor, kind, text, tx_id, points FROM case_notes WHERE case_id = $1 ORDER BY seq`, id)
	c.Notes, err = collect(rows, err, "case notes", func(s Scanner) (cases.Note, error) {
		var n cases.Note
		var at int64
		err := s.Scan(&n.Seq, &at, &n.Actor, &n.Kind, &n.Text, &n.TxID, &n.Points)
		n.At = fromMicros(at)
		return n, err
	})
	return c, err
}

// Cases lists cases newest first, without their notes.
func (t *Tx) Cases(ctx context.Context, q cases.Query) ([]cases.Case, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if q.MemberID != "" {
		where = append(where, "member_id = "+arg(q.MemberID))
	}
	if q.Status != "" {
		where = append(where, "status = "+arg(q.Status))
	}
	if q.Before != nil {
		at := arg(micros(q.Before.CreatedAt))
		where = append(where, fmt.Sprintf("(opened_at < %s OR (opened_at = %s AND id < %s))", at, at, arg(q.Before.ID)))
	}
	s := `SELECT ` + caseColumns + ` FROM cases`
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	s += fmt.Sprintf(" ORDER BY opened_at DESC, id DESC LIMIT %d", q.Limit)
	rows, err := t.query(ctx, s, args...)
	return collect(rows, err, "cases", scanCase)
}

// CaseStats counts the cases opened in [from, to) in one pass, and those
// open now.
func (t *Tx) CaseStats(ctx context.Context, from, to time.Time) (cases.Stats, error) {
	var st cases.Stats
	var mean sql.NullFloat64
	err := t.row(ctx, `SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status = 'resolved' AND first_contact = 1 THEN 1 ELSE 0 END), 0),
			AVG(CASE WHEN status = 'resolved' THEN resolved_at - opened_at END),
			COALESCE(SUM(compensated), 0)
		FROM cases WHERE opened_at >= $1 AND opened_at < $2`, micros(from), micros(to)).
		Scan(&st.Opened, &st.Open, &st.Resolved, &st.FirstContact, &mean, &st.CompensatedPoints)
	if err != nil {
		return st, t.mapErr(err, "case stats")
	}
	if mean.Valid {
		st.MeanMinutesToResolve = int64(mean.Float64 / 60e6) // microseconds to whole minutes
	}
	err = t.row(ctx, `SELECT COUNT(*) FROM cases WHERE status = 'open'`).Scan(&st.OpenNow)
	return st, t.mapErr(err, "case stats")
}
