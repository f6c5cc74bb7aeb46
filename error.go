package kopilka

import (
	"errors"
	"fmt"
)

// Code classifies an error. Each code is a problem type in the HTTP API
// (see docs/problems.md); the HTTP layer maps codes to statuses in one place.
type Code string

// Error codes. The string value is the problem type's last path segment.
const (
	EINVALID       Code = "invalid-field"        // a field of the request is wrong
	EMALFORMED     Code = "malformed-request"    // the body is not the JSON we expect
	ENOTFOUND      Code = "not-found"            // the thing named does not exist
	ECONFLICT      Code = "conflict"             // a uniqueness rule would break (same phone, same card)
	EINSUFFICIENT  Code = "insufficient-points"  // the member does not hold enough points
	ESPENDLIMIT    Code = "spend-limit-exceeded" // points may not pay that much of this receipt
	EPOINTSCAP     Code = "points-cap-exceeded"  // a receipt would earn, or a balance hold, more than its cap
	ERECEIPT       Code = "receipt-conflict"     // same receipt or refund id, different body
	EUNKNOWNCARD   Code = "unknown-card"         // no card with that number
	EBLOCKEDCARD   Code = "blocked-card"         // the card is blocked or replaced
	EBLOCKEDMEMBER Code = "blocked-member"       // the member is blocked
	ESTATE         Code = "purchase-state"       // e.g. a refund of a cancelled purchase
	EIDEMPOTENCY   Code = "idempotency-conflict" // same Idempotency-Key, different body
	EUNAUTHORIZED  Code = "unauthorized"         // no or bad API key
	EFORBIDDEN     Code = "forbidden"            // the key's role may not do this
	ETOOLARGE      Code = "request-too-large"    // body over the size limit
	ETIMEOUT       Code = "request-timeout"      // the body did not arrive in time
	EMETHOD        Code = "method-not-allowed"   // the path exists, not with this method
	EINTERNAL      Code = "internal"             // a bug or an outage; details are only logged
	EUNAVAILABLE   Code = "unavailable"          // the database is not reachable
	ERATELIMIT     Code = "rate-limited"         // the key sent more requests than its limit
	EUNKNOWNSTORE  Code = "unknown-store"        // no store has the receipt's store id
	ESTORECLOSED   Code = "store-closed"         // the store is closed, by status, partner or hours
	ELOCKED        Code = "account-locked"       // too many failed logins: the operator is locked out for a while
)

// FieldError names one field at fault, by its JSON path ("lines[2].quantity").
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error is the one error type of the domain. Message is safe to show to a
// client; anything that is not an *Error is reported as EINTERNAL.
type Error struct {
	Code    Code
	Message string
	Fields  []FieldError
	// Extra holds machine-readable details a client may act on (max_spend).
	Extra map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Detail)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErr returns an error of the code that names one field at fault.
func FieldErr(code Code, field, detail string) *Error {
	return &Error{Code: code, Message: field + ": " + detail, Fields: []FieldError{{field, detail}}}
}

// Invalid returns an EINVALID error for one field.
func Invalid(field, detail string) *Error { return FieldErr(EINVALID, field, detail) }

// ErrorCode returns the code of err, EINTERNAL if it carries none, "" for nil.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// Problems collects field errors so that a client learns of all of them at once.
type Problems []FieldError

// Add records a problem with field.
func (p *Problems) Add(field, detail string) { *p = append(*p, FieldError{field, detail}) }

// Err returns nil when nothing was recorded, else one EINVALID error.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: p}
}

// ErrNoStore answers for a store that does not exist and for one the
// principal may not see or use, in the same words wherever it is asked.
var ErrNoStore = Errorf(ENOTFOUND, "no store has this id")

// RetryRace runs fn again once when it lost a race on an idempotency key:
// a concurrent request with the same id committed first, and the store
// reported ECONFLICT, at the write or at commit (the only unique keys these
// writes can break are the receipt, refund and idempotency keys; the others
// are random). The second run finds that request's result.
func RetryRace(fn func() error) error {
	err := fn()
	if ErrorCode(err) == ECONFLICT {
		err = fn()
	}
	return err
}
