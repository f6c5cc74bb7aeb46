package access

import (
	"context"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/kopilka/kopilka"
)

// One-time codes.
const (
	OTPLength      = 6
	OTPLifetime    = 5 * time.Minute
	OTPAttempts    = 5           // wrong codes before the code is void
	OTPResendAfter = time.Minute // the least time between two codes to one address
	// OTPDailyFailures is how many wrong codes one address may take in a
	// day, over all its codes; past it, no code is sent or accepted until
	// the day since the first of them is over.
	OTPDailyFailures = 15
	// OTPDailyCodes is how many codes one address (a member's or nobody's)
	// may be sent in a day: no phone can be bombed with SMS.
	OTPDailyCodes = 10
	MemberSession = 30 * 24 * time.Hour
)

// otpAddress reads a phone or an e-mail as the address a code goes to.
func (s *Service) otpAddress(phone, email string) (address, channel, to string, err error) {
	switch {
	case phone != "" && email != "":
		return "", "", "", kopilka.Invalid("phone", "give a phone or an e-mail, not both")
	case phone != "":
		p, err := kopilka.NormalizePhone(phone, s.Region)
		if err != nil || p == "" {
			return "", "", "", kopilka.Invalid("phone", "is not a phone number")
		}
		return "phone:" + p, "sms", p, nil
	case email != "":
		e, err := kopilka.NormalizeEmail(email)
		if err != nil || e == "" {
			return "", "", "", kopilka.Invalid("email", "is not an e-mail address")
		}
		return "email:" + e, "email", e, nil
	}
	return "", "", "", kopilka.Invalid("phone", "give a phone or an e-mail")
}

// SendCode sends a one-time code to the member with this phone or e-mail.
// It answers the same, in the same time, whether or not such a member
// exists, so that it cannot be used to find out who is a member: the code
// is written to the outbox in the transaction that stores it (for an
// address of nobody, a void message is written instead) and sent after it
// commits by notify.Dispatcher, so the answer never waits for the gateway
// and a restart loses no code. A second code to the same address within
// OTPResendAfter is ERATELIMIT; with no sender configured every address
// gets EUNAVAILABLE.
func (s *Service) SendCode(ctx context.Context, phone, email string) (err error) {
	a := Begin(ctx, s.Env, AuthCode, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	if !s.SignInByCode { // the same answer for everybody: nothing to tell apart
		return kopilka.Errorf(kopilka.EUNAVAILABLE, "member sign-in by one-time code is not set up on this server")
	}
	address, channel, to, err := s.otpAddress(phone, email)
	if err != nil {
		return err
	}
	a.SetTarget(address)
	// Codes asked from one client address, and by everybody together, are
	// limited before the database is asked: the same for every phone.
	if err := s.codeGate(kopilka.CallFrom(ctx)); err != nil {
		return err
	}
	now := s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) error {
		prev, err := tx.OTP(ctx, address)
		found := err == nil
		if found && now.Sub(prev.SentAt) < OTPResendAfter {
			wait := int((OTPResendAfter - now.Sub(prev.SentAt) + time.Second - 1) / time.Second)
			return &kopilka.Error{Code: kopilka.ERATELIMIT, Message: fmt.Sprintf("a code was sent a moment ago; ask again in %d s", wait),
				Extra: map[string]any{"retry_after": wait}}
		} else if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			return err
		}
		key, value := "phone", to
		if channel == "email" {
			key = "email"
		}
		id, err := tx.MemberIDBy(ctx, key, value)
		if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			return err
		}
		c, err := s.newCode()
		if err != nil {
			return err
		}
		next := kopilka.OTP{Address: address, MemberID: id, Hash: kopilka.HashKey(address + ":" + c), SentAt: now, ExpiresAt: now.Add(OTPLifetime)}
		if found && now.Sub(prev.FailuresSince) < 24*time.Hour { // a new code does not forgive earlier guesses
			next.Failures, next.FailuresSince = prev.Failures, prev.FailuresSince
		}
		next.Sends, next.SendsSince = 1, now
		if found && now.Sub(prev.SendsSince) < 24*time.Hour {
			next.Sends, next.SendsSince = prev.Sends+1, prev.SendsSince
		}
		if next.Sends > OTPDailyCodes {
			wait := int((24*time.Hour - now.Sub(prev.SendsSince) + time.Second - 1) / time.Second)
			return &kopilka.Error{Code: kopilka.ERATELIMIT, Message: fmt.Sprintf("%d codes were asked for this address in a day: ask again later", OTPDailyCodes),
				Extra: map[string]any{"retry_after": wait}}
		}
		// An address of nobody gets a row too, with no member, and a void
		// message, so that it is limited the same and written the same: the
		// caller cannot tell.
		if err := tx.PutOTP(ctx, next); err != nil {
			return err
		}
		msg := kopilka.Message{ID: s.Env.NewID(), Kind: kopilka.MessageVoid, Channel: channel, To: to,
			CreatedAt: now, NotAfter: next.ExpiresAt, NextAt: now}
		if id != "" && next.Failures < OTPDailyFailures {
			msg.Kind, msg.MemberID = kopilka.MessageCode, id
			msg.Text = fmt.Sprintf("Your %s code: %s. It is valid for %d minutes. Do not tell it to anyone.", "loyalty", c, int(OTPLifetime/time.Minute))
		}
		if err := tx.InsertMessage(ctx, msg); err != nil {
			return err
		}
		return a.Record(ctx, tx, nil, nil)
	})
	if err == nil && s.Wake != nil {
		s.Wake()
	}
	return err
}

// newCode draws a uniform code of OTPLength digits.
func (s *Service) newCode() (string, error) {
	var b [8]byte
	limit := uint64(1)
	for range OTPLength {
		limit *= 10
	}
	for {
		if _, err := io.ReadFull(s.Env.Random, b[:]); err != nil {
			return "", err
		}
		v := binary.BigEndian.Uint64(b[:])
		if v < (^uint64(0)/limit)*limit { // no modulo bias
			return fmt.Sprintf("%0*d", OTPLength, v%limit), nil
		}
	}
}

var errCode = kopilka.Errorf(kopilka.EUNAUTHORIZED, "the code is wrong or has expired: ask for a new one")

// VerifyCode trades a code for a member session. A wrong code counts an
// attempt; after OTPAttempts the code is void, as it is once used.
func (s *Service) VerifyCode(ctx context.Context, phone, email, code string) (_ kopilka.Session, err error) {
	a := Begin(ctx, s.Env, AuthVerify, "")
	defer func() { err = Finish(ctx, s.DB, a, err) }()
	address, _, to, err := s.otpAddress(phone, email)
	if err != nil {
		return kopilka.Session{}, err
	}
	a.SetTarget(address)
	if code == "" {
		return kopilka.Session{}, kopilka.Invalid("code", "is required")
	}
	now := s.Env.Time()
	var sess kopilka.Session
	var outcome error
	err = s.DB.Update(ctx, func(tx Tx) error {
		outcome = nil
		o, err := tx.LockOTP(ctx, address)
		if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			outcome = errCode
			return a.RecordRefusal(ctx, tx, nil, outcome)
		} else if err != nil {
			return err
		}
		daily := now.Sub(o.FailuresSince) < 24*time.Hour && o.Failures >= OTPDailyFailures
		if !o.ExpiresAt.After(now) || o.Attempts >= OTPAttempts || daily {
			outcome = errCode
			return a.RecordRefusal(ctx, tx, nil, outcome)
		}
		// A wrong code counts the same for an address of nobody (whose code
		// was never sent) as for a member's: the same write, the same time.
		if subtle.ConstantTimeCompare([]byte(kopilka.HashKey(address+":"+code)), []byte(o.Hash)) != 1 || o.MemberID == "" {
			o.Attempts++
			if now.Sub(o.FailuresSince) >= 24*time.Hour {
				o.Failures, o.FailuresSince = 0, now
			}
			o.Failures++
			outcome = errCode
			if err := tx.PutOTP(ctx, o); err != nil {
				return err
			}
			return a.RecordRefusal(ctx, tx, nil, outcome)
		}
		o.Attempts, o.ExpiresAt = OTPAttempts, now // used: void
		if err := tx.PutOTP(ctx, o); err != nil {
			return err
		}
		m, err := tx.Member(ctx, o.MemberID)
		if err != nil {
			return err
		}
		if m.Status != kopilka.StatusActive {
			outcome = kopilka.FieldErr(kopilka.EBLOCKEDMEMBER, "phone", "the member is blocked")
			return a.RecordRefusal(ctx, tx, nil, outcome)
		}
		if sess, err = s.newSession(ctx, tx, "member", m.ID, MemberTokenPrefix, now.Add(MemberSession)); err != nil {
			return err
		}
		a.SetActor("member", m.ID, "member:"+m.ID+" (code to "+to+")", kopilka.RoleMember)
		return a.Record(ctx, tx, nil, map[string]any{"expires_at": sess.ExpiresAt, "member_id": m.ID})
	})
	if err != nil {
		return kopilka.Session{}, err
	}
	a.Committed()
	if outcome != nil {
		return kopilka.Session{}, outcome
	}
	return sess, nil
}
