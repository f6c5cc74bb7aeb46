package storage

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kopilka/kopilka"
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
// row and the ledger: the one-time code rows of its addresses and the
// messages to it waiting in the outbox.
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
	return nil
}
