package kopilka

import "time"

// Message is a message to a member waiting in the outbox. It is written in
// the transaction of the change it tells of (a one-time code, a card
// replaced), so that it is kept exactly when the change is, and sent after
// that transaction commits, outside any request, by notify.Dispatcher:
// retried until the sender takes it or NotAfter passes. A restart loses
// none.
type Message struct {
	ID   string
	Kind string // MessageCode, MessageCardReplaced, or MessageVoid
	// Channel is "sms" or "email"; To is the E.164 phone or the e-mail address.
	Channel string
	To      string
	Text    string
	// MemberID is the member it is for ("" for a void message).
	MemberID  string
	CreatedAt time.Time
	// NotAfter is when the message is no longer worth sending (a code that
	// has expired); zero: no deadline.
	NotAfter time.Time
	// NextAt is when it may next be tried; Attempts how often it was.
	NextAt   time.Time
	Attempts int
}

// Late reports whether the message is no longer worth sending at now: its
// NotAfter has come.
func (m Message) Late(now time.Time) bool { return !m.NotAfter.IsZero() && !now.Before(m.NotAfter) }

// Message kinds.
const (
	MessageCode         = "otp" // a one-time sign-in code
	MessageCardReplaced = "card_replaced"
	// MessageSurvey invites a member to answer a survey.
	MessageSurvey = "survey" // a member's card was replaced by another
	// MessageVoid is written where no message is due (a code asked for an
	// address of nobody), so that both cases do the same writes and take
	// the same time; the dispatcher drops it unsent.
	MessageVoid = "void"
)
