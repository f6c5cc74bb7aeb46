package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/cases"
)

// AllLots returns every lot of the member, spent ones too, oldest first.
func (t *Tx) AllLots(ctx context.Context, memberID string) ([]*kopilka.Lot, error) {
	return scanLots(t.query(ctx, `SELECT `+lotColumns+` FROM lots WHERE member_id = $1 ORDER BY created_at, id`, memberID))
}

// MemberPurchases returns up to limit of the member's purchases with their
// lines, in the order of their ledger transactions, after the one named.
func (t *Tx) MemberPurchases(ctx context.Context, memberID, afterTx string, limit int) ([]*kopilka.Purchase, error) {
	return t.purchasesOf(ctx, `SELECT partner_id, receipt_id FROM purchases WHERE member_id = $1 AND tx_id > $2
		ORDER BY tx_id LIMIT $3`, memberID, afterTx, limit)
}

// MemberSessions returns what is kept of the member's sessions: never a
// token, which is stored only as a hash.
func (t *Tx) MemberSessions(ctx context.Context, memberID string) ([]kopilka.Session, error) {
	rows, err := t.query(ctx, `SELECT kind, subject_id, created_at, expires_at, revoked_at FROM sessions
		WHERE subject_id = $1 AND kind = 'member' ORDER BY created_at`, memberID)
	return collect(rows, err, "sessions", func(s Scanner) (kopilka.Session, error) {
		var x kopilka.Session
		var created, expires int64
		var revoked sql.NullInt64
		err := s.Scan(&x.Kind, &x.SubjectID, &created, &expires, &revoked)
		x.CreatedAt, x.ExpiresAt, x.RevokedAt = fromMicros(created), fromMicros(expires), fromPtrMicros(revoked)
		return x, err
	})
}

// ForgetMember deletes what Kopilka keeps of a member outside the member's
// row and the ledger: the one-time code rows of its addresses, the
// messages to it waiting in the outbox, and the words of its service cases
// (subjects, resolutions and notes; the cases' kinds, times and points
// stay, as the ledger's do).
func (t *Tx) ForgetMember(ctx context.Context, memberID string, addresses []string) error {
	for _, a := range addresses {
		if _, err := t.execNow(ctx, `DELETE FROM otp_codes WHERE address = $1`, a); err != nil {
			return fmt.Errorf("forget codes: %w", err)
		}
	}
	if _, err := t.execNow(ctx, `DELETE FROM otp_codes WHERE member_id = $1`, memberID); err != nil {
		return fmt.Errorf("forget codes: %w", err)
	}
	if _, err := t.execNow(ctx, `DELETE FROM outbox WHERE member_id = $1`, memberID); err != nil {
		return fmt.Errorf("forget messages: %w", err)
	}
	if _, err := t.execNow(ctx, `UPDATE case_notes SET text = '(erased)' WHERE case_id IN (SELECT id FROM cases WHERE member_id = $1)`, memberID); err != nil {
		return fmt.Errorf("forget case notes: %w", err)
	}
	if _, err := t.execNow(ctx, `UPDATE cases SET subject = '(erased)', resolution = CASE WHEN resolution = '' THEN '' ELSE '(erased)' END
		WHERE member_id = $1`, memberID); err != nil {
		return fmt.Errorf("forget cases: %w", err)
	}
	return nil
}

// MemberCases returns the member's service cases with their notes, newest
// first, at most limit.
func (t *Tx) MemberCases(ctx context.Context, memberID string, limit int) ([]cases.Case, error) {
	list, err := t.Cases(ctx, cases.Query{MemberID: memberID, Limit: limit})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = t.Case(ctx, list[i].ID); err != nil {
			return nil, err
		}
	}
	return list, nil
}
