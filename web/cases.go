package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/cases"
)

// The service centre's cases: opened from a member's page, worked on the
// case's page, counted on the list of open cases.

// formKey is a fresh idempotency key for a form that gives points: the
// same form sent twice (a double click, a retry after a timeout) gives them once.
func formKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Site) openCase(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	in := cases.Opening{MemberID: f.Get("member_id"), Kind: f.Get("kind"), Channel: f.Get("channel"), Subject: f.Get("subject"),
		ReceiptID: strings.TrimSpace(f.Get("receipt_id")), Note: f.Get("note")}
	if in.ReceiptID != "" {
		in.PartnerID = strings.TrimSpace(f.Get("partner_id")) // the receipt's partner, when it came from the receipt's page
	}
	if f.Get("resolved_now") != "" {
		in.Resolution = f.Get("resolution")
		if strings.TrimSpace(in.Resolution) == "" {
			return kopilka.Invalid("resolution", "say how the case was resolved, or leave it open")
		}
	}
	c, err := s.App.Cases.Open(r.Context(), in)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/cases/"+url.PathEscape(c.ID)+"?done=opened", http.StatusSeeOther)
	return nil
}

// caseList is the open cases, newest first, with the service centre's
// figures for the last 30 days.
func (s *Site) caseList(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	status := r.URL.Query().Get("status")
	if status == "" {
		status = cases.StatusOpen
	} else if status == "all" {
		status = ""
	}
	items, _, err := s.App.Cases.List(r.Context(), cases.Query{Status: status, Limit: 200})
	if err != nil {
		return err
	}
	st, err := s.App.Cases.Stats(r.Context(), time.Time{}, time.Time{}) // the last 30 days
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "cases", Office, q.T("Service cases"), map[string]any{"Items": items, "Stats": st, "Status": status})
	return nil
}

func (s *Site) casePage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	c, err := s.App.Cases.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	m, err := s.App.Members.Member(r.Context(), c.MemberID)
	if err != nil {
		return err
	}
	data := map[string]any{"C": c, "M": m, "Key": formKey(), "Done": doneMessage(q, r.URL.Query().Get("done")),
		"CanWrite":      access.Allow(r.Context(), access.CasesWrite) == nil,
		"CanCompensate": access.Allow(r.Context(), access.CasesCompensate) == nil && c.Status == cases.StatusOpen}
	s.render(w, r, http.StatusOK, "case", Office, q.T("Case")+": "+c.Subject, data)
	return nil
}

// caseChange runs a change of a case from its page's form and goes back to it.
func (s *Site) caseChange(done string, change func(r *http.Request, id string) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		if err := change(r, id); err != nil {
			return err
		}
		http.Redirect(w, r, "/office/cases/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

func (s *Site) noteCase(r *http.Request, id string) error {
	_, err := s.App.Cases.AddNote(r.Context(), id, r.PostForm.Get("text"))
	return err
}

func (s *Site) resolveCase(r *http.Request, id string) error {
	_, err := s.App.Cases.Resolve(r.Context(), id, r.PostForm.Get("resolution"))
	return err
}

func (s *Site) reopenCase(r *http.Request, id string) error {
	_, err := s.App.Cases.Reopen(r.Context(), id, r.PostForm.Get("reason"))
	return err
}

func (s *Site) compensateCase(r *http.Request, id string) error {
	points, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("points")), 10, 64)
	if err != nil {
		return kopilka.Invalid("points", "must be a whole number of points, negative to take points away")
	}
	_, _, err = s.App.Cases.Compensate(r.Context(), id, cases.Compensation{Points: points, Reason: r.PostForm.Get("reason")}, r.PostForm.Get("key"))
	return err
}
