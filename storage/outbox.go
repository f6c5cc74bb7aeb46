package storage

import (
	"context"
	"database/sql"
	"time"

	"github.com/kopilka/kopilka"
)

const messageColumns = `id, kind, channel, recipient, body, member_id, created_at, not_after, next_at, attempts`

// InsertMessage puts a message in the outbox.
func (t *Tx) InsertMessage(ctx context.Context, m kopilka.Message) error {
	_, err := t.execNow(ctx, `INSERT INTO outbox (`+messageColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, m.Kind, m.Channel, m.To, m.Text, m.MemberID, micros(m.CreatedAt), nullMicros(m.NotAfter), micros(m.NextAt), m.Attempts)
	return t.mapErr(err, "message")
}

// DueMessages returns up to limit messages due at now, the longest due first.
func (t *Tx) DueMessages(ctx context.Context, now time.Time, limit int) ([]kopilka.Message, error) {
	rows, err := t.query(ctx, `SELECT `+messageColumns+` FROM outbox WHERE next_at <= $1 ORDER BY next_at, id LIMIT $2`, micros(now), limit)
	return collect(rows, err, "outbox", func(s Scanner) (kopilka.Message, error) {
		var m kopilka.Message
		var created, next int64
		var notAfter sql.NullInt64
		err := s.Scan(&m.ID, &m.Kind, &m.Channel, &m.To, &m.Text, &m.MemberID, &created, &notAfter, &next, &m.Attempts)
		m.CreatedAt, m.NextAt, m.NotAfter = fromMicros(created), fromMicros(next), fromNullMicros(notAfter)
		return m, err
	})
}

// ClaimMessage moves the message's next attempt from seen to until and
// counts an attempt, provided no other dispatcher moved it since; it
// reports whether it did.
func (t *Tx) ClaimMessage(ctx context.Context, id string, seen, until time.Time) (bool, error) {
	n, err := t.execNow(ctx, `UPDATE outbox SET next_at = $3, attempts = attempts + 1 WHERE id = $1 AND next_at = $2`,
		id, micros(seen), micros(until))
	return n == 1, t.mapErr(err, "message")
}

// RetryMessage sets when the message is tried again and why it failed.
func (t *Tx) RetryMessage(ctx context.Context, id string, next time.Time, lastError string) error {
	_, err := t.execNow(ctx, `UPDATE outbox SET next_at = $2, last_error = $3 WHERE id = $1`, id, micros(next), lastError)
	return t.mapErr(err, "message")
}

// DeleteMessage removes a message that was sent or given up.
func (t *Tx) DeleteMessage(ctx context.Context, id string) error {
	_, err := t.execNow(ctx, `DELETE FROM outbox WHERE id = $1`, id)
	return t.mapErr(err, "message")
}
