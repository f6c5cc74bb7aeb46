package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/ledger"
)

func (t *Tx) LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error) {
	q := `SELECT available, pending FROM balances WHERE member_id = $1` + t.lock()
	var b kopilka.Balance
	err := t.row(ctx, q, memberID).Scan(&b.Available, &b.Pending)
	return b, notFound(err, "member")
}

func (t *Tx) Holder(ctx context.Context, cardNumber, memberID, partnerID, receiptID string) (kopilka.Holder, error) {
	var h kopilka.Holder
	var hash, quote sql.NullString
	const cols = `SELECT m.id, m.status, %s, b.available, b.pending, p.request_hash, p.quote `
	var row Scanner
	if cardNumber != "" {
		row = t.row(ctx, fmt.Sprintf(cols, "c.status")+`FROM cards c
			JOIN members m ON m.id = c.member_id JOIN balances b ON b.member_id = m.id
			LEFT JOIN purchases p ON p.receipt_id = $2 AND p.partner_id = $3 WHERE c.number = $1`+t.lockOf("b"), cardNumber, receiptID, partnerID)
	} else {
		row = t.row(ctx, fmt.Sprintf(cols, "''")+`FROM members m
			JOIN balances b ON b.member_id = m.id
			LEFT JOIN purchases p ON p.receipt_id = $2 AND p.partner_id = $3 WHERE m.id = $1`+t.lockOf("b"), memberID, receiptID, partnerID)
	}
	err := row.Scan(&h.MemberID, &h.MemberStatus, &h.CardStatus, &h.Balance.Available, &h.Balance.Pending, &hash, &quote)
	if err != nil {
		return h, notFound(err, "member")
	}
	if hash.Valid {
		h.Prior = &kopilka.PriorPurchase{RequestHash: hash.String}
		if err := json.Unmarshal([]byte(quote.String), &h.Prior.Quote); err != nil {
			return h, fmt.Errorf("purchase %s quote: %w", receiptID, err)
		}
	}
	return h, nil
}

// lock locks the rows a single-table SELECT reads, inside a read-write transaction.
func (t *Tx) lock() string {
	if !t.locking {
		return ""
	}
	return t.d.ForUpdate
}

// lockOf locks the rows of one table of a join, inside a read-write transaction.
func (t *Tx) lockOf(alias string) string {
	if !t.locking || t.d.ForUpdate == "" {
		return ""
	}
	return t.d.ForUpdate + " OF " + alias
}

const lotColumns = `id, member_id, tx_id, points, remaining, expired, state, activates_at, expires_at, created_at`

func scanLots(rows Rows, err error) ([]*kopilka.Lot, error) {
	if err != nil {
		return nil, fmt.Errorf("lots: %w", err)
	}
	defer rows.Close()
	var lots []*kopilka.Lot
	for rows.Next() {
		var l kopilka.Lot
		var activates, created int64
		var expires sql.NullInt64
		if err := rows.Scan(&l.ID, &l.MemberID, &l.TxID, &l.Points, &l.Remaining, &l.Expired, &l.State, &activates, &expires, &created); err != nil {
			return nil, err
		}
		l.ActivatesAt, l.ExpiresAt, l.CreatedAt = fromMicros(activates), fromNullMicros(expires), fromMicros(created)
		lots = append(lots, &l)
	}
	return lots, rows.Err()
}

func (t *Tx) Lots(ctx context.Context, memberID, state string) ([]*kopilka.Lot, error) {
	if state == "" {
		return scanLots(t.query(ctx, `SELECT `+lotColumns+` FROM lots
			WHERE member_id = $1 AND remaining > 0`, memberID))
	}
	return scanLots(t.query(ctx, `SELECT `+lotColumns+` FROM lots
		WHERE member_id = $1 AND state = $2 AND remaining > 0`, memberID, state))
}

func (t *Tx) LotsByID(ctx context.Context, ids []string) ([]*kopilka.Lot, error) {
	var out []*kopilka.Lot
	for len(ids) > 0 {
		n := min(len(ids), rowsPerStatement)
		args := make([]any, n)
		marks := make([]string, n)
		for i, id := range ids[:n] {
			args[i], marks[i] = id, fmt.Sprintf("$%d", i+1)
		}
		lots, err := scanLots(t.query(ctx, `SELECT `+lotColumns+` FROM lots WHERE id IN (`+strings.Join(marks, ", ")+`)`, args...))
		if err != nil {
			return nil, err
		}
		out = append(out, lots...)
		ids = ids[n:]
	}
	return out, nil
}

// rowsPerStatement bounds the rows one statement writes or names, so that
// no statement passes a database's limit on parameters (SQLite: 32766,
// PostgreSQL: 65535) even for a member with thousands of lots.
const rowsPerStatement = 500

// addRows adds an INSERT of rows of n columns each (args flat, row by row)
// as statements of at most rowsPerStatement rows; suffix follows the VALUES.
func addRows(b *batch, table, prefix, suffix string, n int, args []any) {
	for len(args) > 0 {
		rows := min(len(args)/n, rowsPerStatement)
		b.add(table, prefix+values(rows, n, 1)+suffix, args[:rows*n]...)
		args = args[rows*n:]
	}
}

// Post writes a ledger entry: one statement per table it touches, sent as
// one batch (see batch).
func (t *Tx) Post(ctx context.Context, e *ledger.Entry) error {
	var b batch
	x := e.Tx
	b.add("transactions", `INSERT INTO transactions
		(id, member_id, kind, receipt_id, refund_id, available, pending, reason, actor, idempotency_key, request_hash, created_at, store_id, partner_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		x.ID, x.MemberID, x.Kind, nullString(x.ReceiptID), nullString(x.RefundID), x.Available, x.Pending,
		nullString(x.Reason), nullString(x.Actor), nullString(x.IdempotencyKey), nullString(x.RequestHash), micros(x.CreatedAt),
		nullString(x.StoreID), nullString(x.PartnerID))
	if len(e.Postings) > 0 {
		args := make([]any, 0, 5*len(e.Postings))
		for i, p := range e.Postings {
			var member sql.NullString
			if p.Account == kopilka.AccountAvailable || p.Account == kopilka.AccountPending {
				member = nullString(x.MemberID)
			}
			args = append(args, x.ID, i, p.Account, member, p.Amount)
		}
		addRows(&b, "postings", `INSERT INTO postings (tx_id, seq, account, member_id, amount) VALUES `, "", 5, args)
	}
	// New lots and changed lots in one upsert, so that the batch modifies the
	// lots table once (CockroachDB refuses two modifications of one table in a statement).
	lots := make([]kopilka.Lot, 0, len(e.NewLots)+len(e.Lots))
	lots = append(lots, e.NewLots...)
	for _, l := range e.Lots {
		lots = append(lots, *l)
	}
	if len(lots) > 0 {
		args := make([]any, 0, 10*len(lots))
		for _, l := range lots {
			args = append(args, l.ID, l.MemberID, l.TxID, l.Points, l.Remaining, l.Expired, l.State,
				micros(l.ActivatesAt), nullMicros(l.ExpiresAt), micros(l.CreatedAt))
		}
		addRows(&b, "lots", `INSERT INTO lots (`+lotColumns+`) VALUES `,
			` ON CONFLICT (id) DO UPDATE SET remaining = excluded.remaining, expired = excluded.expired, state = excluded.state`, 10, args)
	}
	if len(e.Moves) > 0 {
		args := make([]any, 0, 4*len(e.Moves))
		for i, m := range e.Moves {
			args = append(args, x.ID, i, m.LotID, m.Delta)
		}
		addRows(&b, "lot_moves", `INSERT INTO lot_moves (tx_id, seq, lot_id, delta) VALUES `, "", 4, args)
	}
	if x.Available != 0 || x.Pending != 0 {
		b.add("balances", `UPDATE balances SET available = available + $2, pending = pending + $3 WHERE member_id = $1`,
			x.MemberID, x.Available, x.Pending)
	}
	return t.mapErr(t.exec(ctx, b), "ledger entry")
}

const txColumns = `id, member_id, kind, receipt_id, refund_id, available, pending, reason, actor, idempotency_key, request_hash, created_at, store_id, partner_id`

func scanTx(s Scanner) (kopilka.Transaction, error) {
	var x kopilka.Transaction
	var receipt, refund, reason, actor, key, hash, store, partner sql.NullString
	var created int64
	err := s.Scan(&x.ID, &x.MemberID, &x.Kind, &receipt, &refund, &x.Available, &x.Pending, &reason, &actor, &key, &hash, &created, &store, &partner)
	x.StoreID, x.PartnerID = store.String, partner.String
	x.ReceiptID, x.RefundID, x.Reason, x.Actor = receipt.String, refund.String, reason.String, actor.String
	x.IdempotencyKey, x.RequestHash, x.CreatedAt = key.String, hash.String, fromMicros(created)
	return x, err
}

func (t *Tx) Transactions(ctx context.Context, memberID string, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, error) {
	q := `SELECT ` + txColumns + ` FROM transactions WHERE member_id = $1`
	args := []any{memberID}
	if before != nil {
		q += ` AND (created_at < $2 OR (created_at = $2 AND id < $3))`
		args = append(args, micros(before.CreatedAt), before.ID)
	}
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, limit)
	rows, err := t.query(ctx, q, args...)
	return collect(rows, err, "transactions", scanTx)
}

func (t *Tx) TransactionByKey(ctx context.Context, memberID, key string) (kopilka.Transaction, error) {
	x, err := scanTx(t.row(ctx, `SELECT `+txColumns+` FROM transactions
		WHERE member_id = $1 AND idempotency_key = $2`, memberID, key))
	return x, notFound(err, "transaction")
}

func (t *Tx) Expiring(ctx context.Context, memberID string, until time.Time) ([]kopilka.Expiring, error) {
	rows, err := t.query(ctx, `SELECT expires_at, SUM(remaining) FROM lots
		WHERE member_id = $1 AND state = 'active' AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $2
		GROUP BY expires_at ORDER BY expires_at`, memberID, micros(until))
	if err != nil {
		return nil, fmt.Errorf("expiring: %w", err)
	}
	defer rows.Close()
	var out []kopilka.Expiring
	for rows.Next() {
		var at, points int64
		if err := rows.Scan(&at, &points); err != nil {
			return nil, err
		}
		out = append(out, kopilka.Expiring{Points: points, ExpiresAt: fromMicros(at)})
	}
	return out, rows.Err()
}

func (t *Tx) DueMembers(ctx context.Context, now time.Time, limit int) (activate, expire []string, err error) {
	ids := func(q string) ([]string, error) {
		rows, err := t.query(ctx, q, micros(now), limit)
		if err != nil {
			return nil, fmt.Errorf("due lots: %w", err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	if activate, err = ids(`SELECT DISTINCT member_id FROM lots
		WHERE state = 'pending' AND remaining > 0 AND activates_at <= $1 LIMIT $2`); err != nil {
		return nil, nil, err
	}
	expire, err = ids(`SELECT DISTINCT member_id FROM lots
		WHERE state = 'active' AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2`)
	return activate, expire, err
}
