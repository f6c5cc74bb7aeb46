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

const operatorColumns = `id, email, name, role, status, password_hash, failed_logins, locked_until, last_login_at, created_at, partner_id`

func operatorArgs(o kopilka.Operator) []any {
	return []any{o.ID, o.Email, o.Name, o.Role, o.Status, o.PasswordHash, o.FailedLogins,
		ptrMicros(o.LockedUntil), ptrMicros(o.LastLoginAt), micros(o.CreatedAt), o.PartnerID}
}

func scanOperator(s Scanner) (kopilka.Operator, error) {
	var o kopilka.Operator
	var locked, last sql.NullInt64
	var created int64
	err := s.Scan(&o.ID, &o.Email, &o.Name, &o.Role, &o.Status, &o.PasswordHash, &o.FailedLogins, &locked, &last, &created, &o.PartnerID)
	o.LockedUntil, o.LastLoginAt, o.CreatedAt = fromPtrMicros(locked), fromPtrMicros(last), fromMicros(created)
	return o, err
}

func (t *Tx) InsertOperator(ctx context.Context, o kopilka.Operator) error {
	_, err := t.execNow(ctx, `INSERT INTO operators (`+operatorColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, operatorArgs(o)...)
	return t.mapErr(err, "operator")
}

func (t *Tx) UpdateOperator(ctx context.Context, o kopilka.Operator) error {
	n, err := t.execNow(ctx, `UPDATE operators SET email = $2, name = $3, role = $4, status = $5, password_hash = $6,
		failed_logins = $7, locked_until = $8, last_login_at = $9, partner_id = $10 WHERE id = $1`, append(operatorArgs(o)[:9], o.PartnerID)...)
	if err != nil {
		return t.mapErr(err, "operator")
	}
	return mustAffect(n, "operator")
}

func (t *Tx) Operator(ctx context.Context, id string) (kopilka.Operator, error) {
	o, err := scanOperator(t.row(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`, id))
	return o, notFound(err, "operator")
}

func (t *Tx) LockOperator(ctx context.Context, id string) (kopilka.Operator, error) {
	o, err := scanOperator(t.row(ctx, `SELECT `+operatorColumns+` FROM operators WHERE id = $1`+t.lock(), id))
	return o, notFound(err, "operator")
}

func (t *Tx) OperatorIDByEmail(ctx context.Context, email string) (string, error) {
	var id string
	err := t.row(ctx, `SELECT id FROM operators WHERE email = $1`, email).Scan(&id)
	return id, notFound(err, "operator")
}

func (t *Tx) Operators(ctx context.Context) ([]kopilka.Operator, error) {
	rows, err := t.query(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY email`)
	return collect(rows, err, "operators", scanOperator)
}

func (t *Tx) InsertSession(ctx context.Context, s kopilka.Session) error {
	_, err := t.execNow(ctx, `INSERT INTO sessions (hash, kind, subject_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.Hash, s.Kind, s.SubjectID, micros(s.CreatedAt), micros(s.ExpiresAt))
	return t.mapErr(err, "session")
}

func (t *Tx) Session(ctx context.Context, hash string) (kopilka.Session, error) {
	var s kopilka.Session
	var created, expires int64
	err := t.row(ctx, `SELECT hash, kind, subject_id, created_at, expires_at FROM sessions WHERE hash = $1 AND revoked_at IS NULL`, hash).
		Scan(&s.Hash, &s.Kind, &s.SubjectID, &created, &expires)
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return s, notFound(err, "session")
}

func (t *Tx) RevokeSession(ctx context.Context, hash string, at time.Time) error {
	n, err := t.execNow(ctx, `UPDATE sessions SET revoked_at = $2 WHERE hash = $1 AND revoked_at IS NULL`, hash, micros(at))
	if err != nil {
		return err
	}
	return mustAffect(n, "live session")
}

func (t *Tx) RevokeSessions(ctx context.Context, subjectID string, at time.Time) error {
	_, err := t.execNow(ctx, `UPDATE sessions SET revoked_at = $2 WHERE subject_id = $1 AND revoked_at IS NULL`, subjectID, micros(at))
	return err
}

func (t *Tx) PutOTP(ctx context.Context, o kopilka.OTP) error {
	_, err := t.execNow(ctx, `INSERT INTO otp_codes (address, member_id, hash, attempts, sent_at, expires_at, failures, failures_since, sends, sends_since)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (address) DO UPDATE SET member_id = excluded.member_id, hash = excluded.hash, attempts = excluded.attempts,
			sent_at = excluded.sent_at, expires_at = excluded.expires_at, failures = excluded.failures, failures_since = excluded.failures_since,
			sends = excluded.sends, sends_since = excluded.sends_since`,
		o.Address, o.MemberID, o.Hash, o.Attempts, micros(o.SentAt), micros(o.ExpiresAt), o.Failures, micros(o.FailuresSince), o.Sends, micros(o.SendsSince))
	return t.mapErr(err, "one-time code")
}

func (t *Tx) otp(ctx context.Context, address, lock string) (kopilka.OTP, error) {
	var o kopilka.OTP
	var sent, expires, since, sendsSince int64
	err := t.row(ctx, `SELECT address, member_id, hash, attempts, sent_at, expires_at, failures, failures_since, sends, sends_since
		FROM otp_codes WHERE address = $1`+lock, address).
		Scan(&o.Address, &o.MemberID, &o.Hash, &o.Attempts, &sent, &expires, &o.Failures, &since, &o.Sends, &sendsSince)
	o.SentAt, o.ExpiresAt, o.FailuresSince, o.SendsSince = fromMicros(sent), fromMicros(expires), fromMicros(since), fromMicros(sendsSince)
	return o, notFound(err, "one-time code")
}

func (t *Tx) OTP(ctx context.Context, address string) (kopilka.OTP, error) {
	return t.otp(ctx, address, "")
}

func (t *Tx) LockOTP(ctx context.Context, address string) (kopilka.OTP, error) {
	return t.otp(ctx, address, t.lock())
}

func rawOrNull(b json.RawMessage) sql.NullString {
	return sql.NullString{String: string(b), Valid: len(b) > 0}
}

func (t *Tx) InsertAudit(ctx context.Context, es ...kopilka.AuditEntry) error {
	args := make([]any, 0, 16*len(es))
	for _, e := range es {
		args = append(args, e.ID, micros(e.At), e.ActorKind, e.ActorID, e.Actor, e.Role, nullString(e.PartnerID), e.Action, e.Path,
			nullString(e.Target), e.Status, e.RequestID, e.Source, rawOrNull(e.Request), rawOrNull(e.Before), rawOrNull(e.After))
	}
	var b batch
	addRows(&b, "audit_log", `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor, role, partner_id, action, path, target,
		status, request_id, source, request, before_state, after_state) VALUES `, "", 16, args)
	return t.mapErr(t.exec(ctx, b), "audit entries")
}

func (t *Tx) AuditEntries(ctx context.Context, f kopilka.AuditFilter) ([]kopilka.AuditEntry, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.ActorID != "" {
		where = append(where, "actor_id = "+arg(f.ActorID))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Target != "" {
		where = append(where, "target = "+arg(f.Target))
	}
	if f.PartnerID != "" {
		where = append(where, "partner_id = "+arg(f.PartnerID))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(micros(f.From)))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(micros(f.To)))
	}
	if f.Before != nil {
		at := arg(micros(f.Before.CreatedAt))
		where = append(where, fmt.Sprintf("(at < %s OR (at = %s AND id < %s))", at, at, arg(f.Before.ID)))
	}
	q := `SELECT id, at, actor_kind, actor_id, actor, role, partner_id, action, path, target, status, request_id, source,
		request, before_state, after_state FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT %d", f.Limit)
	rows, err := t.query(ctx, q, args...)
	return collect(rows, err, "audit log", scanAudit)
}

func scanAudit(s Scanner) (kopilka.AuditEntry, error) {
	var e kopilka.AuditEntry
	var at int64
	var partner, target, req, before, after sql.NullString
	if err := s.Scan(&e.ID, &at, &e.ActorKind, &e.ActorID, &e.Actor, &e.Role, &partner, &e.Action, &e.Path, &target,
		&e.Status, &e.RequestID, &e.Source, &req, &before, &after); err != nil {
		return e, err
	}
	e.At, e.PartnerID, e.Target = fromMicros(at), partner.String, target.String
	for _, p := range []struct {
		src sql.NullString
		dst *json.RawMessage
	}{{req, &e.Request}, {before, &e.Before}, {after, &e.After}} {
		if p.src.Valid {
			*p.dst = json.RawMessage(p.src.String)
		}
	}
	return e, nil
}

// PutLoginFailures stores the count of an address's failed sign-ins.
func (t *Tx) PutLoginFailures(ctx context.Context, f kopilka.LoginFailures) error {
	_, err := t.execNow(ctx, `INSERT INTO login_failures (email, failures, locked_until, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (email) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, updated_at = excluded.updated_at`,
		f.Email, f.Failures, ptrMicros(f.LockedUntil), micros(f.UpdatedAt))
	return t.mapErr(err, "login failures")
}

// LockLoginFailures reads the count of an address's failed sign-ins and
// holds it until the transaction ends, or ENOTFOUND.
func (t *Tx) LockLoginFailures(ctx context.Context, email string) (kopilka.LoginFailures, error) {
	f := kopilka.LoginFailures{Email: email}
	var until sql.NullInt64
	var updated int64
	err := t.row(ctx, `SELECT failures, locked_until, updated_at FROM login_failures WHERE email = $1`+t.lock(), email).
		Scan(&f.Failures, &until, &updated)
	f.LockedUntil, f.UpdatedAt = fromPtrMicros(until), fromMicros(updated)
	return f, notFound(err, "login failures")
}

// DeleteStaleCodes deletes up to limit code rows whose code was sent, and
// whose failures and sends were first counted, before before.
func (t *Tx) DeleteStaleCodes(ctx context.Context, before time.Time, limit int) (int, error) {
	b := micros(before)
	n, err := t.execNow(ctx, `DELETE FROM otp_codes WHERE address IN (SELECT address FROM otp_codes
		WHERE sent_at < $1 AND failures_since < $1 AND sends_since < $1 LIMIT $2)`, b, limit)
	return int(n), t.mapErr(err, "one-time codes")
}
