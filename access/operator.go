package access

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"golang.org/x/crypto/argon2"
)

// OperatorRoles are the roles an operator may have.
// A partner-admin operator belongs to a partner (partner_id) and sees its
// business only.
var OperatorRoles = []string{kopilka.RoleAdmin, kopilka.RoleOperator, kopilka.RoleMarketing, kopilka.RoleSupport, kopilka.RolePartnerAdmin}

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
	if _, err := io.ReadFull(s.Env.Random, salt); err != nil {
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

func checkPasswordRule(pr *kopilka.Problems, password string) {
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
	// PartnerID makes the operator a manager of this partner; it is
	// required for the role partner-admin and refused for any other
	// ("" takes it away).
	PartnerID *string `json:"partner_id"`
}

// apply changes o by the input; hash makes a new password's hash.
func (in OperatorInput) apply(o *kopilka.Operator, hash func(string) (string, error)) error {
	var pr kopilka.Problems
	if in.Email != nil {
		e, err := kopilka.NormalizeEmail(*in.Email)
		if err != nil || e == "" {
			pr.Add("email", "must be an e-mail address")
		}
		o.Email = e
	}
	if in.Name != nil {
		kopilka.CheckText(&pr, "name", *in.Name, true, 200)
		o.Name = strings.TrimSpace(*in.Name)
	}
	if in.Role != nil {
		if !slices.Contains(OperatorRoles, *in.Role) {
			pr.Add("role", "must be one of "+strings.Join(OperatorRoles, ", "))
		}
		o.Role = *in.Role
	}
	if in.Status != nil {
		if *in.Status != kopilka.StatusActive && *in.Status != StatusDisabled {
			pr.Add("status", `must be "active" or "disabled"`)
		}
		o.Status = *in.Status
	}
	if in.Password != nil {
		checkPasswordRule(&pr, *in.Password)
	}
	if in.PartnerID != nil {
		kopilka.CheckText(&pr, "partner_id", *in.PartnerID, false, 100)
		o.PartnerID = strings.TrimSpace(*in.PartnerID)
	}
	switch {
	case o.Role == kopilka.RolePartnerAdmin && o.PartnerID == "":
		pr.Add("partner_id", "is required for a partner-admin operator")
	case o.Role != kopilka.RolePartnerAdmin && o.PartnerID != "" && o.Role != "":
		if in.PartnerID != nil {
			pr.Add("partner_id", "only a partner-admin operator belongs to a partner")
		} else {
			pr.Add("role", "a partner's operator may only be partner-admin: give partner_id \"\" with another role")
		}
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
		h, err := hash(*in.Password)
		if err != nil {
			return err
		}
		o.PasswordHash = h
		o.FailedLogins, o.LockedUntil = 0, nil // a new password unlocks
	}
	return nil
}

// keepAnAdmin refuses a change that would leave no active administrator:
// nobody could then manage keys and operators from the back office.
func keepAnAdmin(ctx context.Context, tx Tx, before, after kopilka.Operator) error {
	activeAdmin := func(o kopilka.Operator) bool { return o.Role == kopilka.RoleAdmin && o.Status == kopilka.StatusActive }
	if !activeAdmin(before) || activeAdmin(after) {
		return nil
	}
	all, err := tx.Operators(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.ID != before.ID && activeAdmin(o) {
			return nil
		}
	}
	return kopilka.FieldErr(kopilka.ECONFLICT, "role", "this is the last active administrator: make another one first")
}

// partnerExists refuses a partner_id that names no partner.
func partnerExists(ctx context.Context, tx Tx, id string) error {
	if id == "" {
		return nil
	}
	if _, err := tx.Partner(ctx, id); kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
		return kopilka.Invalid("partner_id", "no partner has this id")
	} else if err != nil {
		return err
	}
	return nil
}

// StatusDisabled is an operator who may no longer log in.
const StatusDisabled = "disabled"

// CreateOperator adds a person to the back office.
func (s *Service) CreateOperator(ctx context.Context, in OperatorInput) (_ kopilka.Operator, err error) {
	a := Begin(ctx, s.Env, OperatorsCreate, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Operator{}, err
	}
	o := kopilka.Operator{ID: s.Env.NewID(), Status: kopilka.StatusActive, CreatedAt: s.Env.Time()}
	if err := in.apply(&o, s.HashPassword); err != nil {
		return kopilka.Operator{}, err
	}
	a.SetTarget(o.ID)
	err = s.DB.Update(ctx, func(tx Tx) error {
		if err := partnerExists(ctx, tx, o.PartnerID); err != nil {
			return err
		}
		if err := tx.InsertOperator(ctx, o); err != nil {
			return err
		}
		return a.Record(ctx, tx, nil, o)
	})
	return o, err
}

// UpdateOperator changes an operator; a new password also unlocks them.
func (s *Service) UpdateOperator(ctx context.Context, id string, in OperatorInput) (o kopilka.Operator, err error) {
	a := Begin(ctx, s.Env, OperatorsUpdate, id)
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return o, err
	}
	// A new password is hashed before the transaction, not while it holds
	// the database (argon2id takes tens of milliseconds).
	hashed, hashErr := "", error(nil)
	if in.Password != nil {
		var pr kopilka.Problems
		if checkPasswordRule(&pr, *in.Password); pr.Err() == nil {
			hashed, hashErr = s.HashPassword(*in.Password)
		}
	}
	prehashed := func(string) (string, error) { return hashed, hashErr }
	err = s.DB.Update(ctx, func(tx Tx) error {
		if o, err = tx.Operator(ctx, id); err != nil {
			return err
		}
		before := o
		if err := in.apply(&o, prehashed); err != nil {
			return err
		}
		if err := partnerExists(ctx, tx, o.PartnerID); err != nil {
			return err
		}
		if err := keepAnAdmin(ctx, tx, before, o); err != nil {
			return err
		}
		if err := tx.UpdateOperator(ctx, o); err != nil {
			return err
		}
		// Disabled, a new password, or another role or partner: every
		// session of theirs ends, for good.
		if o.Status != kopilka.StatusActive || in.Password != nil || o.Role != before.Role || o.PartnerID != before.PartnerID {
			if err := tx.RevokeSessions(ctx, o.ID, s.Env.Time()); err != nil {
				return err
			}
		}
		return a.Record(ctx, tx, before, o)
	})
	return o, err
}

// UnlockOperator clears an operator's failed logins.
func (s *Service) UnlockOperator(ctx context.Context, id string) (o kopilka.Operator, err error) {
	a := Begin(ctx, s.Env, OperatorsUnlock, id)
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return o, err
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		if o, err = tx.Operator(ctx, id); err != nil {
			return err
		}
		before := o
		o.FailedLogins, o.LockedUntil = 0, nil
		if err := tx.UpdateOperator(ctx, o); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, o)
	})
	return o, err
}

// Operators lists every operator.
func (s *Service) Operators(ctx context.Context) (os []kopilka.Operator, err error) {
	if err := Allow(ctx, OperatorsList); err != nil {
		return nil, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		os, err = tx.Operators(ctx)
		return err
	})
	return os, err
}

// Operator returns one operator, or ENOTFOUND.
func (s *Service) Operator(ctx context.Context, id string) (o kopilka.Operator, err error) {
	if err := Allow(ctx, OperatorsRead); err != nil {
		return o, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		o, err = tx.Operator(ctx, id)
		return err
	})
	return o, err
}

var errLogin = kopilka.Errorf(kopilka.EUNAUTHORIZED, "the e-mail or the password is wrong")

// Login checks an operator's password and opens a session. After
// MaxFailedLogins failures in a row the address is locked for LockOut,
// whether or not it is an operator's (so that the lock-out tells nobody
// who is one); while locked, even the right password is refused with
// ELOCKED.
//
// The password is hashed outside any transaction, at most HashSlots at
// once on this instance; more sign-ins at once are ERATELIMIT. Failed
// sign-ins are limited on this instance as a whole (FailedLoginRate), so
// that guessing spread over many addresses slows down too.
//
// Every attempt is in the audit log, with the address tried as its target;
// a failed one is recorded with the failure it counts.
func (s *Service) Login(ctx context.Context, email, password string) (_ kopilka.Session, _ kopilka.Operator, err error) {
	a := Begin(ctx, s.Env, AuthLogin, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	e, err := kopilka.NormalizeEmail(email)
	if err == nil {
		a.SetTarget(e) // the address tried; what was sent is never an actor
	}
	if err := s.signInGate(); err != nil {
		return kopilka.Session{}, kopilka.Operator{}, err
	}
	// The stored hash is read and checked before the transaction: a hash
	// takes tens of milliseconds, and no till waits behind it.
	var snapshot kopilka.Operator
	known := false
	if err == nil && e != "" {
		err := s.DB.View(ctx, func(tx Tx) error {
			id, err := tx.OperatorIDByEmail(ctx, e)
			if err != nil {
				return err
			}
			snapshot, err = tx.Operator(ctx, id)
			return err
		})
		switch {
		case err == nil:
			known = true
		case kopilka.ErrorCode(err) != kopilka.ENOTFOUND:
			return kopilka.Session{}, kopilka.Operator{}, err
		}
	}
	hash := dummyHash // an unknown address takes as long as a known one
	if known && snapshot.Status == kopilka.StatusActive {
		hash = snapshot.PasswordHash
	}
	release, err := s.hashSlot()
	if err != nil {
		return kopilka.Session{}, kopilka.Operator{}, err
	}
	right := s.verify(hash, password) && known && password != ""
	release()
	if e == "" {
		s.failedSignIn()
		return kopilka.Session{}, kopilka.Operator{}, errLogin
	}
	var o kopilka.Operator
	var sess kopilka.Session
	now := s.Env.Time()
	var outcome error
	locked := func(until time.Time) error {
		return &kopilka.Error{Code: kopilka.ELOCKED, Message: fmt.Sprintf("too many failed logins: the account is locked until %s", until.Format(time.RFC3339)),
			Extra: map[string]any{"locked_until": until.Format(time.RFC3339)}}
	}
	err = s.DB.Update(ctx, func(tx Tx) (err error) {
		outcome = nil
		id, err := tx.OperatorIDByEmail(ctx, e)
		if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			// No operator's: counted and locked alike, in its own row.
			f, err := tx.LockLoginFailures(ctx, e)
			if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				return err
			}
			f.Email = e
			if f.LockedUntil != nil && f.LockedUntil.After(now) {
				outcome = locked(*f.LockedUntil)
				return a.RecordRefusal(ctx, tx, nil, outcome)
			}
			f.Failures++
			f.LockedUntil, f.UpdatedAt = nil, now
			if f.Failures >= MaxFailedLogins {
				until := now.Add(LockOut)
				f.LockedUntil, f.Failures = &until, 0
			}
			if err := tx.PutLoginFailures(ctx, f); err != nil {
				return err
			}
			outcome = errLogin
			return a.RecordRefusal(ctx, tx, nil, outcome)
		} else if err != nil {
			return err
		}
		if o, err = tx.LockOperator(ctx, id); err != nil {
			return err
		}
		switch {
		case o.Status != kopilka.StatusActive:
			outcome = errLogin
			return a.RecordRefusal(ctx, tx, nil, outcome)
		case o.LockedUntil != nil && o.LockedUntil.After(now):
			outcome = locked(*o.LockedUntil)
			return a.RecordRefusal(ctx, tx, nil, outcome)
		case !right || o.PasswordHash != snapshot.PasswordHash: // a password changed meanwhile is checked again next time
			o.FailedLogins++
			if o.FailedLogins >= MaxFailedLogins {
				until := now.Add(LockOut)
				o.LockedUntil, o.FailedLogins = &until, 0
			}
			outcome = errLogin
			if err := tx.UpdateOperator(ctx, o); err != nil {
				return err
			}
			return a.RecordRefusal(ctx, tx, nil, outcome)
		}
		o.FailedLogins, o.LockedUntil, o.LastLoginAt = 0, nil, &now
		if err := tx.UpdateOperator(ctx, o); err != nil {
			return err
		}
		if sess, err = s.newSession(ctx, tx, "operator", o.ID, OperatorTokenPrefix, now.Add(OperatorSession)); err != nil {
			return err
		}
		a.SetActor("operator", o.ID, "operator:"+o.ID+" ("+o.Email+")", o.Role)
		return a.Record(ctx, tx, nil, map[string]any{"expires_at": sess.ExpiresAt, "operator": o})
	})
	if err != nil {
		return kopilka.Session{}, kopilka.Operator{}, err
	}
	a.Committed()
	if outcome != nil {
		s.failedSignIn()
		return kopilka.Session{}, kopilka.Operator{}, outcome
	}
	return sess, o, nil
}

// newSession stores a session with a fresh token and returns it with the token.
func (s *Service) newSession(ctx context.Context, tx Tx, kind, subject, prefix string, expires time.Time) (kopilka.Session, error) {
	var b [24]byte
	if _, err := io.ReadFull(s.Env.Random, b[:]); err != nil {
		return kopilka.Session{}, err
	}
	token := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	sess := kopilka.Session{Hash: kopilka.HashKey(token), Kind: kind, SubjectID: subject, CreatedAt: s.Env.Time(), ExpiresAt: expires}
	if err := tx.InsertSession(ctx, sess); err != nil {
		return kopilka.Session{}, err
	}
	sess.Token = token
	return sess, nil
}

// Logout ends the session of this token.
func (s *Service) Logout(ctx context.Context, token string) (err error) {
	a := Begin(ctx, s.Env, AuthLogout, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return err
	}
	return s.DB.Update(ctx, func(tx Tx) error {
		if err := tx.RevokeSession(ctx, kopilka.HashKey(token), s.Env.Time()); err != nil {
			return err
		}
		return a.Record(ctx, tx, nil, nil)
	})
}

// sessionPrincipal returns who holds a live session token.
func (s *Service) sessionPrincipal(ctx context.Context, token string) (kopilka.Principal, error) {
	var p kopilka.Principal
	err := s.DB.View(ctx, func(tx Tx) error {
		sess, err := tx.Session(ctx, kopilka.HashKey(token))
		if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			return kopilka.Errorf(kopilka.EUNAUTHORIZED, "the session token is not valid")
		} else if err != nil {
			return err
		}
		if !sess.ExpiresAt.After(s.Env.Time()) {
			return kopilka.Errorf(kopilka.EUNAUTHORIZED, "the session has ended: log in again")
		}
		switch sess.Kind {
		case "operator":
			o, err := tx.Operator(ctx, sess.SubjectID)
			if err != nil {
				return err
			}
			if o.Status != kopilka.StatusActive {
				return kopilka.Errorf(kopilka.EUNAUTHORIZED, "the operator is disabled")
			}
			p = kopilka.Principal{Kind: "operator", ID: o.ID, Name: o.Email, Role: o.Role, PartnerID: o.PartnerID}
		case "member":
			m, err := tx.Member(ctx, sess.SubjectID)
			if err != nil {
				return err
			}
			if m.Status != kopilka.StatusActive {
				return kopilka.Errorf(kopilka.EUNAUTHORIZED, "the member is blocked")
			}
			p = kopilka.Principal{Kind: "member", ID: m.ID, Name: "member", Role: kopilka.RoleMember, MemberID: m.ID}
		default:
			return kopilka.Errorf(kopilka.EUNAUTHORIZED, "the session token is not valid")
		}
		return nil
	})
	return p, err
}

// Whoami returns the principal in ctx, for any principal signed in.
func (s *Service) Whoami(ctx context.Context) (kopilka.Principal, error) {
	if err := Allow(ctx, AuthWhoami); err != nil {
		return kopilka.Principal{}, err
	}
	return kopilka.PrincipalFrom(ctx), nil
}
