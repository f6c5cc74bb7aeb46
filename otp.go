package kopilka

import "time"

// OTP is a code sent to an address; only its hash is stored.
type OTP struct {
	Address  string // "phone:+7916…" or "email:anna@…"
	MemberID string
	Hash     string
	Attempts int
	// Failures counts wrong codes since FailuresSince, across codes.
	Failures      int
	FailuresSince time.Time
	SentAt        time.Time
	ExpiresAt     time.Time
	// Sends counts the codes asked for since SendsSince.
	Sends      int
	SendsSince time.Time
}
