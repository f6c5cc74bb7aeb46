package members

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/programme"
)

// Tx is the storage the member and card use cases need inside a transaction.
type Tx interface {
	access.Auditor
	programme.BonusTx
	// Card returns the card, or ENOTFOUND.
	Card(ctx context.Context, number string) (kopilka.Card, error)
	InsertCard(ctx context.Context, c kopilka.Card) error
	// InsertMember stores a new member with a zero balance.
	InsertMember(ctx context.Context, m kopilka.Member) error
	// InsertMessage puts a message to a member in the outbox.
	InsertMessage(ctx context.Context, m kopilka.Message) error
	// LockBalance reads the member's balance and holds it against other
	// writers until the transaction ends. Every write to a member's lots
	// takes this lock first, so locks are always taken in the same order.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// MemberIDBy finds a member by "phone", "email" or "card" (any status), or ENOTFOUND.
	MemberIDBy(ctx context.Context, key, value string) (string, error)
	// SearchMembers returns a page of members matching q, with their cards,
	// and the sort key of each (for the next page's cursor).
	SearchMembers(ctx context.Context, q kopilka.MemberQuery) ([]kopilka.Member, []string, error)
	// RevokeSessions ends every live session of the operator or member.
	RevokeSessions(ctx context.Context, subjectID string, at time.Time) error
	UpdateCard(ctx context.Context, c kopilka.Card) error
	UpdateMember(ctx context.Context, m kopilka.Member) error
}
