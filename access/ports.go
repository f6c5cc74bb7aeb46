package access

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
)

// Tx is the storage keys, operators, sessions, one-time codes and the audit log need inside a transaction.
type Tx interface {
	// AuditEntries lists entries matching the filter, newest first.
	AuditEntries(ctx context.Context, f kopilka.AuditFilter) ([]kopilka.AuditEntry, error)
	// InsertAudit appends entries.
	InsertAudit(ctx context.Context, es ...kopilka.AuditEntry) error
	// LockLoginFailures reads the count of an address's failed sign-ins (an
	// address that is no operator's) and holds it, or ENOTFOUND.
	LockLoginFailures(ctx context.Context, email string) (kopilka.LoginFailures, error)
	// PutLoginFailures stores that count.
	PutLoginFailures(ctx context.Context, f kopilka.LoginFailures) error
	InsertKey(ctx context.Context, k kopilka.APIKey) error
	// InsertOperator stores a new operator; a taken e-mail is ECONFLICT.
	InsertOperator(ctx context.Context, o kopilka.Operator) error
	InsertSession(ctx context.Context, s kopilka.Session) error
	KeyByHash(ctx context.Context, hash string) (kopilka.APIKey, error)
	Keys(ctx context.Context) ([]kopilka.APIKey, error)
	LockOTP(ctx context.Context, address string) (kopilka.OTP, error)
	// LockOperator reads the operator and holds it until the transaction
	// ends, so that concurrent failed logins all count.
	LockOperator(ctx context.Context, id string) (kopilka.Operator, error)
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// InsertMessage puts a message to a member in the outbox.
	InsertMessage(ctx context.Context, m kopilka.Message) error
	// MemberIDBy finds a member by "phone", "email" or "card" (any status), or ENOTFOUND.
	MemberIDBy(ctx context.Context, key, value string) (string, error)
	// OTP returns the address's code, or ENOTFOUND; LockOTP also holds it.
	OTP(ctx context.Context, address string) (kopilka.OTP, error)
	// Operator returns the operator, or ENOTFOUND.
	Operator(ctx context.Context, id string) (kopilka.Operator, error)
	OperatorIDByEmail(ctx context.Context, email string) (string, error)
	Operators(ctx context.Context) ([]kopilka.Operator, error)
	// Partner returns the partner, or ENOTFOUND.
	Partner(ctx context.Context, id string) (kopilka.Partner, error)
	// PutOTP stores the address's code, replacing any earlier one.
	PutOTP(ctx context.Context, o kopilka.OTP) error
	RevokeKey(ctx context.Context, id string, at time.Time) error
	RevokeSession(ctx context.Context, hash string, at time.Time) error
	// RevokeSessions ends every live session of the operator or member.
	RevokeSessions(ctx context.Context, subjectID string, at time.Time) error
	// Session returns the live (not revoked) session with the hash, or ENOTFOUND.
	Session(ctx context.Context, hash string) (kopilka.Session, error)
	// Store returns the store, or ENOTFOUND.
	Store(ctx context.Context, id string) (kopilka.Store, error)
	TouchKey(ctx context.Context, id string, at time.Time) error
	UpdateOperator(ctx context.Context, o kopilka.Operator) error
}
