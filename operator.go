package kopilka

import "time"

// Operator is a person in the back office. They log in with a password
// and get a session token; their role says what they may do.
type Operator struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Status string `json:"status"` // active or disabled
	// PartnerID is the partner whose manager the operator is (role
	// partner-admin): they see that partner's stores, receipts, rates and
	// statements only. "" is the programme's own staff.
	PartnerID string `json:"partner_id,omitempty"`
	// FailedLogins counts failures since the last success; at MaxFailedLogins
	// the account locks until LockedUntil.
	FailedLogins int        `json:"failed_logins"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	PasswordHash string     `json:"-"`
}

// LoginFailures counts the failed sign-ins of an e-mail address that is no
// operator's, as Operator.FailedLogins counts an operator's.
type LoginFailures struct {
	Email       string
	Failures    int
	LockedUntil *time.Time
	UpdatedAt   time.Time
}

// Session is a signed-in operator's or member's bearer token. Only its
// hash is stored.
type Session struct {
	Hash      string    `json:"-"`
	Kind      string    `json:"kind"` // operator or member
	SubjectID string    `json:"subject_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// RevokedAt is when it was ended before its time (nil: it was not).
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// Token is set only in the answer that creates it.
	Token string `json:"token,omitempty"`
}
