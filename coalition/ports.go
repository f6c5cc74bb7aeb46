package coalition

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Tx is the storage partners, stores and settlements need inside a transaction.
type Tx interface {
	access.Auditor
	// InsertSettlement stores a closed statement; an existing one is ECONFLICT.
	InsertSettlement(ctx context.Context, st kopilka.Statement) error
	// Partner returns the partner, or ENOTFOUND.
	Partner(ctx context.Context, id string) (kopilka.Partner, error)
	// PartnerEntries lists up to limit ledger transactions at the
	// partner's stores posted in [from, to), oldest first, after the cursor.
	PartnerEntries(ctx context.Context, partnerID string, from, to time.Time, after *kopilka.Cursor, limit int) ([]kopilka.PartnerEntry, error)
	Partners(ctx context.Context) ([]kopilka.Partner, error)
	// PutPartner inserts the partner or replaces the one with its id.
	PutPartner(ctx context.Context, p kopilka.Partner) error
	// PutStore inserts the store or replaces the one with its id.
	PutStore(ctx context.Context, o kopilka.Store) error
	// Settlements returns the partner's closed statements, newest first,
	// without their entries (at most 240: twenty years of months).
	Settlements(ctx context.Context, partnerID string) ([]kopilka.Statement, error)
	// Settlement returns the closed statement of the period, or ENOTFOUND.
	Settlement(ctx context.Context, partnerID, period string) (kopilka.Statement, error)
	// Store returns the store, or ENOTFOUND.
	Store(ctx context.Context, id string) (kopilka.Store, error)
	// Stores lists stores by id after after, at most limit: of the partner
	// ("": every partner's) and, when storeIDs is not empty, only those.
	Stores(ctx context.Context, partnerID string, storeIDs []string, after string, limit int) ([]kopilka.Store, error)
	// StoresIn lists up to limit open stores of active partners (of one
	// partner when partnerID is set) whose coordinates lie in the box, with
	// their partner's categories. It must use an index on the coordinates.
	StoresIn(ctx context.Context, b kopilka.Box, partnerID string, limit int) ([]kopilka.Store, error)
}
