// Package surveys asks members what they thought: NPS (0–10, "would you
// recommend us?"), CSI (1–5 over several attributes) and CES (1–7, "how
// easy was it?"), after a purchase or a resolved service case. An
// invitation goes out through the outbox (the pluggable sender) and is
// answered in the member app, once; an answer may earn a bonus, given once
// in the answer's transaction. Results by store, partner and period with
// the response rate.
package surveys

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
)

// Survey kinds and what they follow.
const (
	NPS           = "nps" // score 0–10
	CSI           = "csi" // a score 1–5 for each attribute
	CES           = "ces" // score 1–7
	AfterPurchase = "purchase"
	AfterCase     = "case"
)

// Survey is what to ask, after what, of how many, for what bonus.
type Survey struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// After is "purchase" (a member's purchase, not an imported one) or
	// "case" (a service case resolved).
	After string `json:"after"`
	// Question is what the member reads (default by kind).
	Question string `json:"question,omitempty"`
	// Attributes are what a CSI survey rates, 1 to 10 of them ("staff",
	// "choice", "prices").
	Attributes []string `json:"attributes,omitempty"`
	// BonusPoints are given once for an answer (0: none).
	BonusPoints int64 `json:"bonus_points,omitempty"`
	// SamplePercent is the share of purchases or cases asked (default 100):
	// chosen by a hash of the survey's and the subject's ids.
	SamplePercent kopilka.Percent `json:"sample_percent,omitempty"`
	// ValidDays is how long an invitation may be answered (default 14).
	ValidDays int       `json:"valid_days,omitempty"`
	Enabled   bool      `json:"enabled"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Invitation is one member asked once, about one purchase or case.
type Invitation struct {
	ID          string     `json:"id"`
	SurveyID    string     `json:"survey_id"`
	Kind        string     `json:"kind"`
	Question    string     `json:"question"`
	Attributes  []string   `json:"attributes,omitempty"`
	MemberID    string     `json:"member_id"`
	SubjectKind string     `json:"subject_kind"` // purchase or case
	SubjectID   string     `json:"subject_id"`   // receipt id or case id
	PartnerID   string     `json:"partner_id,omitempty"`
	StoreID     string     `json:"store_id,omitempty"`
	SentAt      time.Time  `json:"sent_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
	Scores      []int      `json:"scores,omitempty"`
	Comment     string     `json:"comment,omitempty"`
	Bonus       int64      `json:"bonus,omitempty"`
}

// Subject is a purchase or case a survey may ask about.
type Subject struct {
	ID, MemberID, PartnerID, StoreID string
	At                               time.Time
}

// Answer is a member's answer: one score (NPS, CES) or one per attribute
// (CSI), and an optional comment of at most 1,000 characters.
type Answer struct {
	Scores  []int  `json:"scores"`
	Comment string `json:"comment,omitempty"`
}

// Tx is what surveys read and write in a transaction.
type Tx interface {
	access.Auditor
	ledger.Tx
	PutSurvey(ctx context.Context, s Survey) error
	Surveys(ctx context.Context) ([]Survey, error)
	// SurveyInvited reports whether the survey has sent an invitation.
	SurveyInvited(ctx context.Context, id string) (bool, error)
	// Subjects returns up to limit of the members' purchases (after
	// "purchase": not imported, not cancelled) or resolved cases (after
	// "case") since since, that the survey has not asked about, oldest first.
	Subjects(ctx context.Context, surveyID, after string, since time.Time, limit int) ([]Subject, error)
	// InsertInvitation stores an invitation; one for the same survey and
	// subject is ECONFLICT.
	InsertInvitation(ctx context.Context, inv Invitation) error
	InsertMessage(ctx context.Context, m kopilka.Message) error
	// Invitation returns an invitation, or ENOTFOUND.
	Invitation(ctx context.Context, id string) (Invitation, error)
	// MemberInvitations returns the member's invitations sent since since,
	// newest first (at most 50).
	MemberInvitations(ctx context.Context, memberID string, since time.Time) ([]Invitation, error)
	// AnswerInvitation stores an invitation's answer (AnsweredAt, Scores,
	// Comment, Bonus) if it has none; false when it had one already.
	AnswerInvitation(ctx context.Context, inv Invitation) (bool, error)
	// Invitations calls fn with the survey's invitations sent in [from, to).
	Invitations(ctx context.Context, surveyID string, from, to time.Time, fn func(Invitation) error) error
}

// Adjuster posts the bonus inside the answer's transaction: the ledger.
type Adjuster interface {
	PrepareAdjustment(ctx context.Context, a kopilka.Adjustment, key string) (ledger.Prepared, error)
	PostAdjustment(ctx context.Context, tx ledger.Tx, memberID string, prep ledger.Prepared) (kopilka.Transaction, kopilka.Balance, bool, error)
}

// Service runs the surveys.
type Service struct {
	DB     kopilka.Transactor[Tx]
	Env    *kopilka.Env
	Ledger Adjuster
	// AppURL is the member app's address for the invitations' text
	// (default "/app/surveys").
	AppURL string
}

// Scale returns the lowest and highest score of a kind.
func Scale(kind string) (lo, hi int) {
	switch kind {
	case NPS:
		return 0, 10
	case CSI:
		return 1, 5
	}
	return 1, 7
}

func defaultQuestion(kind string) string {
	switch kind {
	case NPS:
		return "How likely are you to recommend us to a friend? (0–10)"
	case CSI:
		return "How satisfied were you? (1–5 for each)"
	}
	return "How easy was it to get what you needed? (1–7)"
}

// check validates a survey and fills its defaults.
func (s *Survey) check() error {
	var pr kopilka.Problems
	kopilka.CheckID(&pr, "id", s.ID, true)
	if s.Kind != NPS && s.Kind != CSI && s.Kind != CES {
		pr.Add("kind", `kind is "nps", "csi" or "ces"`)
	}
	if s.After != AfterPurchase && s.After != AfterCase {
		pr.Add("after", `after is "purchase" or "case"`)
	}
	s.Question = strings.TrimSpace(s.Question)
	if s.Question == "" {
		s.Question = defaultQuestion(s.Kind)
	}
	if utf8.RuneCountInString(s.Question) > 300 || !kopilka.CleanText(s.Question) {
		pr.Add("question", "at most 300 characters of text")
	}
	if s.Kind == CSI && (len(s.Attributes) < 1 || len(s.Attributes) > 10) {
		pr.Add("attributes", "a CSI survey rates 1 to 10 attributes")
	}
	if s.Kind != CSI && len(s.Attributes) > 0 {
		pr.Add("attributes", "only a CSI survey has attributes")
	}
	for _, a := range s.Attributes {
		if a == "" || utf8.RuneCountInString(a) > 60 || !kopilka.CleanText(a) {
			pr.Add("attributes", "each is 1 to 60 characters of text")
			break
		}
	}
	if s.BonusPoints < 0 || s.BonusPoints > 100_000 {
		pr.Add("bonus_points", "must be 0 to 100000")
	}
	if s.SamplePercent == 0 {
		s.SamplePercent = 100 * kopilka.PercentScale
	}
	if s.SamplePercent < 0 || s.SamplePercent > 100*kopilka.PercentScale {
		pr.Add("sample_percent", "must be above 0 and at most 100")
	}
	if s.ValidDays == 0 {
		s.ValidDays = 14
	}
	if s.ValidDays < 1 || s.ValidDays > 90 {
		pr.Add("valid_days", "must be 1 to 90")
	}
	return pr.Err()
}

// PutSurvey adds or replaces a survey (roles admin, marketing).
func (s *Service) PutSurvey(ctx context.Context, sv Survey) (out Survey, err error) {
	a := access.Begin(ctx, s.Env, access.SurveysWrite, sv.ID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return out, err
	}
	if err := sv.check(); err != nil {
		return out, err
	}
	sv.UpdatedAt = s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) error {
		// Answers are read by the question they answered: once a survey has
		// asked, its kind and attributes stay (a new survey asks anew).
		all, err := tx.Surveys(ctx)
		if err != nil {
			return err
		}
		for _, old := range all {
			if old.ID != sv.ID || (old.Kind == sv.Kind && slices.Equal(old.Attributes, sv.Attributes)) {
				continue
			}
			invited, err := tx.SurveyInvited(ctx, sv.ID)
			if err != nil {
				return err
			}
			if invited {
				return kopilka.FieldErr(kopilka.ECONFLICT, "kind", "the survey has asked already: its kind and attributes stay; add a new survey")
			}
		}
		if err := tx.PutSurvey(ctx, sv); err != nil {
			return err
		}
		return a.Record(ctx, tx, nil, sv)
	})
	return sv, err
}

// Surveys lists the surveys (roles admin, operator, marketing).
func (s *Service) Surveys(ctx context.Context) ([]Survey, error) {
	if err := access.Allow(ctx, access.ReportsAnalytics); err != nil {
		return nil, err
	}
	var out []Survey
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Surveys(ctx)
		return err
	})
	return out, err
}

// Invite asks about the purchases and resolved cases of the last day that
// the enabled surveys have not asked about, a survey's sample of them: an
// invitation each (answerable in the member app for the survey's valid
// days) and, to a member who consented to SMS or e-mail, a message through
// the outbox, in one transaction with its audit entry. The jobs call it;
// it returns how many were sent. At most 1,000 a survey a call.
func (s *Service) Invite(ctx context.Context) (int, error) {
	if err := access.Allow(ctx, access.SurveysInvite); err != nil {
		return 0, err
	}
	var svs []Survey
	if err := s.DB.View(ctx, func(tx Tx) (err error) {
		svs, err = tx.Surveys(ctx)
		return err
	}); err != nil {
		return 0, err
	}
	now := s.Env.Time()
	sent := 0
	for _, sv := range svs {
		if !sv.Enabled {
			continue
		}
		var subjects []Subject
		if err := s.DB.View(ctx, func(tx Tx) (err error) {
			subjects, err = tx.Subjects(ctx, sv.ID, sv.After, now.Add(-24*time.Hour), 1000)
			return err
		}); err != nil {
			return sent, err
		}
		for _, sub := range subjects {
			if !kopilka.InShare(sv.ID, sub.ID, sv.SamplePercent) { // the survey's sample
				continue
			}
			ok, err := s.invite(ctx, sv, sub, now)
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
	}
	return sent, nil
}

func (s *Service) invite(ctx context.Context, sv Survey, sub Subject, now time.Time) (bool, error) {
	inv := Invitation{ID: s.Env.NewID(), SurveyID: sv.ID, Kind: sv.Kind, Question: sv.Question, Attributes: sv.Attributes,
		MemberID: sub.MemberID, SubjectKind: sv.After, SubjectID: sub.ID, PartnerID: sub.PartnerID, StoreID: sub.StoreID,
		SentAt: now, ExpiresAt: now.AddDate(0, 0, sv.ValidDays)}
	a := access.Begin(ctx, s.Env, access.SurveysInvite, inv.ID)
	err := s.DB.Update(ctx, func(tx Tx) error {
		if err := tx.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		m, err := tx.Member(ctx, sub.MemberID)
		if err != nil {
			return err
		}
		channel, to := "", ""
		switch {
		case m.Status != kopilka.StatusActive:
		case m.Consents.SMS && m.Phone != "":
			channel, to = "sms", m.Phone
		case m.Consents.Email && m.Email != "":
			channel, to = "email", m.Email
		}
		if channel != "" {
			url := s.AppURL
			if url == "" {
				url = "/app/surveys"
			}
			if err := tx.InsertMessage(ctx, kopilka.Message{ID: s.Env.NewID(), Kind: kopilka.MessageSurvey, Channel: channel, To: to,
				Text: fmt.Sprintf("%s Answer in the app: %s", sv.Question, url), MemberID: m.ID, CreatedAt: now, NextAt: now,
				NotAfter: inv.ExpiresAt}); err != nil {
				return err
			}
		}
		return a.Record(ctx, tx, nil, map[string]any{"survey_id": sv.ID, "subject": sub.ID, "member_id": sub.MemberID, "message": channel})
	})
	if kopilka.ErrorCode(err) == kopilka.ECONFLICT {
		return false, nil // another instance asked first
	}
	return err == nil, access.Finish(ctx, s.DB, a, err)
}

// Mine returns the signed-in member's invitations of the last 90 days.
func (s *Service) Mine(ctx context.Context) ([]Invitation, error) {
	if err := access.Allow(ctx, access.MeRead); err != nil {
		return nil, err
	}
	p := kopilka.PrincipalFrom(ctx)
	var out []Invitation
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		out, err = tx.MemberInvitations(ctx, p.MemberID, s.Env.Time().AddDate(0, 0, -90))
		return err
	})
	return out, err
}

// Answer records the signed-in member's answer to their invitation, once,
// and gives the survey's bonus in the same transaction (idempotent by the
// invitation: a second answer is ECONFLICT and gives nothing). Another
// member's invitation reads as missing; an expired one is ECONFLICT.
func (s *Service) Answer(ctx context.Context, id string, ans Answer) (inv Invitation, err error) {
	a := access.Begin(ctx, s.Env, access.MeSurveys, id)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return inv, err
	}
	me := kopilka.PrincipalFrom(ctx).MemberID
	var svs []Survey
	err = s.DB.View(ctx, func(tx Tx) (err error) {
		if inv, err = tx.Invitation(ctx, id); err != nil {
			return err
		}
		svs, err = tx.Surveys(ctx)
		return err
	})
	if err != nil {
		return inv, err
	}
	if inv.MemberID != me {
		return Invitation{}, kopilka.Errorf(kopilka.ENOTFOUND, "survey invitation not found") // as a missing one reads
	}
	var pr kopilka.Problems
	lo, hi := Scale(inv.Kind)
	want := 1
	if inv.Kind == CSI {
		want = len(inv.Attributes)
	}
	if len(ans.Scores) != want {
		pr.Add("scores", fmt.Sprintf("%d score(s) are asked for", want))
	}
	for _, sc := range ans.Scores {
		if sc < lo || sc > hi {
			pr.Add("scores", fmt.Sprintf("each score is %d to %d", lo, hi))
			break
		}
	}
	ans.Comment = strings.TrimSpace(ans.Comment)
	if utf8.RuneCountInString(ans.Comment) > 1000 || !kopilka.CleanText(ans.Comment) {
		pr.Add("comment", "at most 1,000 characters of text")
	}
	if err := pr.Err(); err != nil {
		return inv, err
	}
	now := s.Env.Time()
	if inv.AnsweredAt != nil {
		return inv, kopilka.Errorf(kopilka.ECONFLICT, "this survey is answered already")
	}
	if !now.Before(inv.ExpiresAt) {
		return inv, kopilka.Errorf(kopilka.ECONFLICT, "this survey can no longer be answered")
	}
	var bonus int64
	for _, sv := range svs {
		if sv.ID == inv.SurveyID {
			bonus = sv.BonusPoints
		}
	}
	var prep ledger.Prepared
	if bonus > 0 {
		// The system gives it: the member may not adjust their own balance.
		sys := kopilka.NewContextWithPrincipal(ctx, kopilka.System("surveys"))
		if prep, err = s.Ledger.PrepareAdjustment(sys, kopilka.Adjustment{Points: bonus, Reason: "survey " + inv.SurveyID}, "survey:"+inv.ID); err != nil {
			return inv, err
		}
	}
	inv.AnsweredAt, inv.Scores, inv.Comment, inv.Bonus = &now, ans.Scores, ans.Comment, bonus
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			ok, err := tx.AnswerInvitation(ctx, inv)
			if err != nil {
				return err
			}
			if !ok {
				return kopilka.Errorf(kopilka.ECONFLICT, "this survey is answered already")
			}
			if bonus > 0 {
				sys := kopilka.NewContextWithPrincipal(ctx, kopilka.System("surveys"))
				if _, _, _, err := s.Ledger.PostAdjustment(sys, tx, inv.MemberID, prep); err != nil {
					return err
				}
			}
			return a.Record(ctx, tx, nil, map[string]any{"invitation": inv.ID, "survey_id": inv.SurveyID, "bonus": bonus})
		})
	})
	return inv, err
}
