// Package access decides who may act: API keys, operator accounts and
// their sessions, members' sign-in by one-time code, and the append-only
// audit log of what each of them did.
package access

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"golang.org/x/time/rate"
)

// Service runs the access use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Region reads national phone numbers ("RU": 8 916 … is +7 916 …).
	Region string
	// SignInByCode says whether members may sign in by one-time code: true
	// once a sender of messages is configured (the codes go to the outbox,
	// and notify.Dispatcher sends them). False: the code routes answer
	// EUNAVAILABLE to everybody.
	SignInByCode bool
	// Wake, when set, is called after a message was written to the outbox,
	// so that the dispatcher sends it now rather than at its next tick.
	Wake func()
	// HashSlots bounds how many passwords this instance hashes at once
	// (argon2id takes 19 MiB and tens of milliseconds each); more sign-ins
	// at once are refused with ERATELIMIT. 0 means 4.
	HashSlots int
	// FailedLoginRate bounds the failed sign-ins a second on this instance,
	// over all addresses, in bursts of ten times as many; past it every
	// sign-in is refused with ERATELIMIT for a while. 0 means 5.
	FailedLoginRate float64

	once     sync.Once
	slots    chan struct{}
	failures *rate.Limiter
	// verifyFn checks a password against its hash (tests replace it).
	verifyFn func(hash, password string) bool
}

func (s *Service) init() {
	s.once.Do(func() {
		n, r := s.HashSlots, s.FailedLoginRate
		if n <= 0 {
			n = 4
		}
		if r <= 0 {
			r = 5
		}
		s.slots = make(chan struct{}, n)
		s.failures = rate.NewLimiter(rate.Limit(r), int(10*r))
	})
}

func (s *Service) verify(hash, password string) bool {
	if s.verifyFn != nil {
		return s.verifyFn(hash, password)
	}
	return checkPassword(hash, password)
}

// hashSlot takes one of the slots for hashing a password, or refuses.
func (s *Service) hashSlot() (release func(), err error) {
	s.init()
	select {
	case s.slots <- struct{}{}:
		return func() { <-s.slots }, nil
	default:
		return nil, &kopilka.Error{Code: kopilka.ERATELIMIT, Message: "too many sign-ins at once on this server; retry in a second",
			Extra: map[string]any{"retry_after": 1}}
	}
}

// signInGate refuses every sign-in while failed ones run over the
// instance's rate.
func (s *Service) signInGate() error {
	s.init()
	now := time.Now()
	if s.failures.TokensAt(now) >= 1 {
		return nil
	}
	r := s.failures.ReserveN(now, 1)
	wait := int(math.Ceil(r.DelayFrom(now).Seconds()))
	r.CancelAt(now)
	return &kopilka.Error{Code: kopilka.ERATELIMIT, Message: fmt.Sprintf("too many failed sign-ins on this server; retry after %d s", max(wait, 1)),
		Extra: map[string]any{"retry_after": max(wait, 1)}}
}

// failedSignIn counts a failed sign-in against the instance's rate.
func (s *Service) failedSignIn() {
	s.init()
	s.failures.Allow()
}
