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
	// CodesPerSource bounds the one-time codes one client address may ask
	// for, per minute, on this instance (bursts of as many); 0 means 5.
	// CodesPerSecond bounds the codes all clients together may ask for on
	// this instance, a second (bursts of ten times as many); 0 means 20.
	// Past either the answer is ERATELIMIT, the same for every phone.
	CodesPerSource, CodesPerSecond float64
	// FailedLoginRate bounds the failed sign-ins a second on this instance,
	// over all addresses, in bursts of ten times as many; past it every
	// sign-in is refused with ERATELIMIT for a while. 0 means 5.
	FailedLoginRate float64

	once     sync.Once
	slots    chan struct{}
	failures *rate.Limiter
	codes    *rate.Limiter // every client's code requests
	sources  limiters      // each client address's code requests
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
		per, all := s.CodesPerSource, s.CodesPerSecond
		if per <= 0 {
			per = 5
		}
		if all <= 0 {
			all = 20
		}
		s.codes = rate.NewLimiter(rate.Limit(all), int(10*all))
		s.sources = limiters{every: rate.Limit(per / 60), burst: max(1, int(per)), m: map[string]*rate.Limiter{}}
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

// codeGate refuses a code request past this instance's limits: per client
// address, then for everybody.
func (s *Service) codeGate(call *kopilka.Call) error {
	s.init()
	source := ""
	if call != nil {
		source = call.Source
	}
	if !s.sources.allow(source) || !s.codes.Allow() {
		return &kopilka.Error{Code: kopilka.ERATELIMIT, Message: "too many one-time codes were asked for a moment ago; ask again in a minute",
			Extra: map[string]any{"retry_after": 60}}
	}
	return nil
}

// limiters keeps a rate limiter per key, at most 10,000: past that, the
// keys whose limiters are full again (idle) are forgotten, which loses
// nothing; the busy ones are kept.
type limiters struct {
	mu    sync.Mutex
	every rate.Limit
	burst int
	m     map[string]*rate.Limiter
}

func (l *limiters) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[key]
	if !ok {
		if len(l.m) >= 10_000 {
			now := time.Now()
			for k, v := range l.m {
				if v.TokensAt(now) >= float64(l.burst) {
					delete(l.m, k)
				}
			}
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.m[key] = lim
	}
	return lim.Allow()
}
