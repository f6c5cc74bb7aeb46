package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
)

// Sender delivers one message. Channel is "sms" or "email"; to is the E.164
// phone or the e-mail address.
type Sender interface {
	Send(ctx context.Context, channel, to, text string) error
}

// LogSender writes messages to the log instead of sending them: for
// development only (the one-time codes it logs let anyone who reads the log
// sign in as the member).
type LogSender struct{ Logger *slog.Logger }

// Send logs the message.
func (l LogSender) Send(ctx context.Context, channel, to, text string) error {
	l.Logger.Warn("message to a member (log sender: not delivered; development only)", "channel", channel, "to", to, "text", text)
	return nil
}

// Tx is the storage the dispatcher needs.
type Tx interface {
	// DueMessages returns up to limit messages due at now, the longest due first.
	DueMessages(ctx context.Context, now time.Time, limit int) ([]kopilka.Message, error)
	// ClaimMessage moves the message's next attempt from seen to until and
	// counts an attempt, provided no other dispatcher moved it since; it
	// reports whether it did.
	ClaimMessage(ctx context.Context, id string, seen, until time.Time) (bool, error)
	// RetryMessage sets when the message is tried again and why it failed.
	RetryMessage(ctx context.Context, id string, next time.Time, lastError string) error
	// DeleteMessage removes a message that was sent or given up.
	DeleteMessage(ctx context.Context, id string) error
}

// Limits of delivery.
const (
	// Lease is how long a claimed message is left to its dispatcher before
	// another may try it (a dispatcher that died while sending).
	Lease = time.Minute
	// MaxAttempts is how often a message is tried before it is given up.
	MaxAttempts = 12
	// MaxBackoff is the longest wait between two attempts; the first waits
	// a second, and each wait doubles.
	MaxBackoff = 5 * time.Minute
	// Parallel is how many messages one dispatcher sends at once.
	Parallel = 8
	// SendTimeout bounds one attempt.
	SendTimeout = 15 * time.Second
)

// Dispatcher sends the outbox's messages. Any number of instances may run
// one over the same database: each message is claimed by one at a time.
type Dispatcher struct {
	DB     kopilka.Transactor[Tx]
	Env    *kopilka.Env
	Sender Sender // nil: nothing is sent and messages wait
	Logger *slog.Logger

	once sync.Once
	kick chan struct{}
}

func (d *Dispatcher) init() { d.once.Do(func() { d.kick = make(chan struct{}, 1) }) }

// Wake makes a running dispatcher look at the outbox now rather than at its
// next tick: the use cases call it after a message's transaction commits.
func (d *Dispatcher) Wake() {
	d.init()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run sends due messages until ctx ends: when woken, and every interval
// for messages other instances wrote or that wait for a retry.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	d.init()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.Flush(ctx); err != nil && ctx.Err() == nil {
			d.Logger.Error("outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-t.C:
		}
	}
}

// Flush sends the messages due now, up to 1,000, and returns how many the
// sender took. A message the sender refuses waits (1 s, then twice as
// long each time, at most MaxBackoff) and is tried again; one past its
// NotAfter, or tried MaxAttempts times, is dropped and logged. Void
// messages are dropped unsent.
func (d *Dispatcher) Flush(ctx context.Context) (int, error) {
	if d.Sender == nil {
		// Nothing can be sent: messages wait for a sender, and those no
		// longer worth sending go, so that the outbox does not only grow.
		return 0, d.dropLate(ctx)
	}
	sent := 0
	for range 10 {
		now := d.Env.Time()
		var due []kopilka.Message
		err := d.DB.View(ctx, func(tx Tx) (err error) { due, err = tx.DueMessages(ctx, now, 100); return err })
		if err != nil || len(due) == 0 {
			return sent, err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		slots := make(chan struct{}, Parallel)
		for _, m := range due {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				ok, err := d.deliver(ctx, m, now)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					sent++
				}
				if err != nil && ctx.Err() == nil {
					d.Logger.Error("outbox", "message", m.ID, "err", err)
				}
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// dropLate removes the due messages past their NotAfter, and void ones.
func (d *Dispatcher) dropLate(ctx context.Context) error {
	now := d.Env.Time()
	var due []kopilka.Message
	if err := d.DB.View(ctx, func(tx Tx) (err error) { due, err = tx.DueMessages(ctx, now, 1000); return err }); err != nil {
		return err
	}
	for _, m := range due {
		if m.Kind == kopilka.MessageVoid || m.Late(now) {
			if err := d.delete(ctx, m.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// deliver claims one message and sends it; it reports whether the sender took it.
func (d *Dispatcher) deliver(ctx context.Context, m kopilka.Message, now time.Time) (bool, error) {
	drop := func(why string) error {
		if why != "" {
			d.Logger.Warn("message to a member dropped unsent", "message", m.ID, "kind", m.Kind, "channel", m.Channel, "why", why)
		}
		return d.delete(ctx, m.ID)
	}
	switch {
	case m.Kind == kopilka.MessageVoid:
		return false, drop("")
	case m.Late(now):
		return false, drop("no longer worth sending (a code that expired)")
	case m.Attempts >= MaxAttempts:
		return false, drop("the sender refused it too often")
	}
	var claimed bool
	err := d.DB.Update(ctx, func(tx Tx) (err error) {
		claimed, err = tx.ClaimMessage(ctx, m.ID, m.NextAt, now.Add(Lease))
		return err
	})
	if err != nil || !claimed {
		return false, err // another dispatcher has it
	}
	sctx, cancel := context.WithTimeout(ctx, SendTimeout)
	defer cancel()
	if err := d.Sender.Send(sctx, m.Channel, m.To, m.Text); err != nil {
		wait := min(time.Second<<min(m.Attempts, 20), MaxBackoff)
		d.Logger.Warn("message to a member not sent; will retry", "message", m.ID, "kind", m.Kind, "channel", m.Channel,
			"attempt", m.Attempts+1, "retry_in", wait.String(), "err", err)
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		return false, d.DB.Update(ctx, func(tx Tx) error { return tx.RetryMessage(ctx, m.ID, now.Add(wait), msg) })
	}
	return true, d.delete(ctx, m.ID)
}

// delete removes a message sent or given up.
func (d *Dispatcher) delete(ctx context.Context, id string) error {
	return d.DB.Update(ctx, func(tx Tx) error { return tx.DeleteMessage(ctx, id) })
}
