package access

import (
	"context"

	"github.com/kopilka/kopilka"
)

// Audit reads entries, newest first, and the cursor of the next page.
func (s *Service) Audit(ctx context.Context, f kopilka.AuditFilter) ([]kopilka.AuditEntry, *kopilka.Cursor, error) {
	if err := Allow(ctx, AuditRead); err != nil {
		return nil, nil, err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return nil, nil, kopilka.Invalid("limit", "must be from 1 to 1000")
	}
	var es []kopilka.AuditEntry
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		es, err = tx.AuditEntries(ctx, f)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var next *kopilka.Cursor
	if len(es) == f.Limit {
		last := es[len(es)-1]
		next = &kopilka.Cursor{CreatedAt: last.At, ID: last.ID}
	}
	return es, next, nil
}
