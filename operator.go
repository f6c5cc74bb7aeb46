package kopilka

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Operator is a person in the back office. They log in with a password
// and get a session token; their role says what they may do.
type Operator struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Name   string `json:"name"`
	Role   string `json:"role"`
	Status string `json:"status"` // active or disabled
	// FailedLogins counts failures since the last success; at MaxFailedLogins
	// the account locks until LockedUntil.
	FailedLogins int        `json:"failed_logins"`
	LockedUntil  *time.Time `json:"locked_until,omitempty"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	PasswordHash string     `json:"-"`
}

// OperatorRoles are the roles an operator may have.
var OperatorRoles = []string{RoleAdmin, RoleOperator, RoleMarketing, RoleSupport}

// Lock-out and sessions.
const (
	MaxFailedLogins = 5
	LockOut         = 15 * time.Minute
	OperatorSession = 12 * time.Hour
	MinPassword     = 12
)

// Secret prefixes of session tokens, so that a leaked one is easy to find.
const (
	OperatorTokenPrefix = "kps_"
	MemberTokenPrefix   = "kpm_"
)

// Session is a signed-in operator's or member's bearer token. Only its
// hash is stored.
type Session struct {
	Hash      string    `json:"-"`
	Kind      string    `json:"kind"` // operator or member
	SubjectID string    `json:"subject_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Token is set only in the answer that creates it.
	Token string `json:"token,omitempty"`
}

// argon2id parameters: OWASP's choice of 19 MiB, two passes, one lane.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the password's argon2id hash in the PHC string form.
func (s *Service) HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.Random, salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether the password matches a PHC argon2id hash.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when the e-mail is unknown, so that the answer
// takes as long as for a known one.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$2Zk3wJ5bXc0H8hC3m3pQb0oWm9V0cX3hT2Yv0gJ8mYs"

func checkPasswordRule(pr *Problems, password string) {
	if len([]rune(password)) < MinPassword || len(password) > 200 {
		pr.Add("password", fmt.Sprintf("must be %d to 200 characters", MinPassword))
	}
}

// OperatorInput creates or changes an operator; nil fields stay as they are.
type OperatorInput struct {
	Email    *string `json:"email"`
	Name     *string `json:"name"`
	Role     *string `json:"role"`
	Status   *string `json:"status"`
	Password *string `json:"password"`
}

func (in OperatorInput) apply(o *Operator, s *Service) error {
	var pr Problems
	if in.Email != nil {
		e, err := NormalizeEmail(*in.Email)
		if err != nil || e == "" {
			pr.Add("email", "must be an e-mail address")
		}
		o.Email = e
	}
	if in.Name != nil {
		checkText(&pr, "name", *in.Name, true, 200)
		o.Name = strings.TrimSpace(*in.Name)
	}
	if in.Role != nil {
		if !slices.Contains(OperatorRoles, *in.Role) {
			pr.Add("role", "must be one of "+strings.Join(OperatorRoles, ", "))
		}
		o.Role = *in.Role
	}
	if in.Status != nil {
		if *in.Status != StatusActive && *in.Status != StatusDisabled {
			pr.Add("status", `must be "active" or "disabled"`)
		}
		o.Status = *in.Status
	}
	if in.Password != nil {
		checkPasswordRule(&pr, *in.Password)
	}
	if o.Email == "" && in.Email == nil {
		pr.Add("email", "is required")
	}
	if o.Role == "" && in.Role == nil {
		pr.Add("role", "is required")
	}
	if o.PasswordHash == "" && in.Password == nil {
		pr.Add("password", "is required")
	}
	if err := pr.Err(); err != nil {
		return err
	}
	if in.Password != nil {
		h, err := s.HashPassword(*in.Password)
		if err != nil {
			return err
		}
		o.PasswordHash = h
		o.FailedLogins, o.LockedUntil = 0, nil // a new password unlocks
	}
	return nil
}

// StatusDisabled is an operator who may no longer log in.
const StatusDisabled = "disabled"

// CreateOperator adds a person to the back office.
func (s *Service) CreateOperator(ctx context.Context, in OperatorInput) (Operator, error) {
	o := Operator{ID: s.newID(), Status: StatusActive, CreatedAt: s.now()}
	if err := in.apply(&o, s); err != nil {
		return Operator{}, err
	}
	err := s.Store.Update(ctx, func(tx Tx) error { return tx.InsertOperator(ctx, o) })
	return o, err
}

// UpdateOperator changes an operator; a new password also unlocks them.
func (s *Service) UpdateOperator(ctx context.Context, id string, in OperatorInput) (o Operator, err error) {
	err = s.Store.Update(ctx, func(tx Tx) error {
		if o, err = tx.Operator(ctx, id); err != nil {
			return err
		}
		if err := in.apply(&o, s); err != nil {
			return err
		}
		if err := tx.UpdateOperator(ctx, o); err != nil {
			return err
		}
		// Disabled, or a new password: every session of theirs ends, for good.
		if o.Status != StatusActive || in.Password != nil {
			return tx.RevokeSessions(ctx, o.ID, s.now())
		}
		return nil
	})
	return o, err
}

// UnlockOperator clears an operator's failed logins.
func (s *Service) UnlockOperator(ctx context.Context, id string) (o Operator, err error) {
	err = s.Store.Update(ctx, func(tx Tx) error {
		if o, err = tx.Operator(ctx, id); err != nil {
			return err
		}
		o.FailedLogins, o.LockedUntil = 0, nil
		return tx.UpdateOperator(ctx, o)
	})
	return o, err
}

// Operators lists every operator.
func (s *Service) Operators(ctx context.Context) (os []Operator, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		os, err = tx.Operators(ctx)
		return err
	})
	return os, err
}

// Operator returns one operator, or ENOTFOUND.
func (s *Service) Operator(ctx context.Context, id string) (o Operator, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		o, err = tx.Operator(ctx, id)
		return err
	})
	return o, err
}

var errLogin = Errorf(EUNAUTHORIZED, "the e-mail or the password is wrong")

// Login checks an operator's password and opens a session. After
// MaxFailedLogins failures in a row the account is locked for LockOut;
// while locked, even the right password is refused with ELOCKED.
func (s *Service) Login(ctx context.Context, email, password string) (Session, Operator, error) {
	e, err := NormalizeEmail(email)
	if err != nil || e == "" || password == "" {
		checkPassword(dummyHash, password)
		return Session{}, Operator{}, errLogin
	}
	var o Operator
	var sess Session
	now := s.now()
	var outcome error
	err = s.Store.Update(ctx, func(tx Tx) (err error) {
		outcome = nil
		id, err := tx.OperatorIDByEmail(ctx, e)
		if ErrorCode(err) == ENOTFOUND {
			checkPassword(dummyHash, password)
			outcome = errLogin
			return nil
		} else if err != nil {
			return err
		}
		if o, err = tx.LockOperator(ctx, id); err != nil {
			return err
		}
		switch {
		case o.Status != StatusActive:
			checkPassword(dummyHash, password)
			outcome = errLogin
			return nil
		case o.LockedUntil != nil && o.LockedUntil.After(now):
			checkPassword(dummyHash, password) // as long as any other answer
			outcome = &Error{Code: ELOCKED, Message: fmt.Sprintf("too many failed logins: the account is locked until %s", o.LockedUntil.Format(time.RFC3339)),
				Extra: map[string]any{"locked_until": o.LockedUntil.Format(time.RFC3339)}}
			return nil
		case !checkPassword(o.PasswordHash, password):
			o.FailedLogins++
			if o.FailedLogins >= MaxFailedLogins {
				until := now.Add(LockOut)
				o.LockedUntil, o.FailedLogins = &until, 0
			}
			outcome = errLogin
			return tx.UpdateOperator(ctx, o)
		}
		o.FailedLogins, o.LockedUntil, o.LastLoginAt = 0, nil, &now
		if err := tx.UpdateOperator(ctx, o); err != nil {
			return err
		}
		sess, err = s.newSession(ctx, tx, "operator", o.ID, OperatorTokenPrefix, now.Add(OperatorSession))
		return err
	})
	if err != nil {
		return Session{}, Operator{}, err
	}
	if outcome != nil {
		return Session{}, Operator{}, outcome
	}
	return sess, o, nil
}

// newSession stores a session with a fresh token and returns it with the token.
func (s *Service) newSession(ctx context.Context, tx Tx, kind, subject, prefix string, expires time.Time) (Session, error) {
	var b [24]byte
	if _, err := io.ReadFull(s.Random, b[:]); err != nil {
		return Session{}, err
	}
	token := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	sess := Session{Hash: HashKey(token), Kind: kind, SubjectID: subject, CreatedAt: s.now(), ExpiresAt: expires}
	if err := tx.InsertSession(ctx, sess); err != nil {
		return Session{}, err
	}
	sess.Token = token
	return sess, nil
}

// Logout ends the session of this token.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.Store.Update(ctx, func(tx Tx) error { return tx.RevokeSession(ctx, HashKey(token), s.now()) })
}

// sessionPrincipal returns who holds a live session token.
func (s *Service) sessionPrincipal(ctx context.Context, token string) (Principal, error) {
	var p Principal
	err := s.Store.View(ctx, func(tx Tx) error {
		sess, err := tx.Session(ctx, HashKey(token))
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(EUNAUTHORIZED, "the session token is not valid")
		} else if err != nil {
			return err
		}
		if !sess.ExpiresAt.After(s.now()) {
			return Errorf(EUNAUTHORIZED, "the session has ended: log in again")
		}
		switch sess.Kind {
		case "operator":
			o, err := tx.Operator(ctx, sess.SubjectID)
			if err != nil {
				return err
			}
			if o.Status != StatusActive {
				return Errorf(EUNAUTHORIZED, "the operator is disabled")
			}
			p = Principal{Kind: "operator", ID: o.ID, Name: o.Email, Role: o.Role}
		case "member":
			m, err := tx.Member(ctx, sess.SubjectID)
			if err != nil {
				return err
			}
			if m.Status != StatusActive {
				return Errorf(EUNAUTHORIZED, "the member is blocked")
			}
			p = Principal{Kind: "member", ID: m.ID, Name: "member", Role: RoleMember, MemberID: m.ID}
		default:
			return Errorf(EUNAUTHORIZED, "the session token is not valid")
		}
		return nil
	})
	return p, err
}
