package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// auditPage is the audit log, newest first, filtered by who, what, which
// target and when (days in the programme's time zone), a page at a time.
func (s *Site) auditPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	v := r.URL.Query()
	f := kopilka.AuditFilter{ActorID: v.Get("actor_id"), Action: v.Get("action"), Target: v.Get("target"), Limit: 50}
	for _, d := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"from", &f.From, false}, {"to", &f.To, true}} {
		if v.Get(d.name) != "" {
			t, err := dateParam(r, d.name, q.zone(), d.end)
			if err != nil {
				return err
			}
			*d.dst = t
		}
	}
	var err error
	if f.Before, err = pageCursor(v.Get("before")); err != nil {
		return err
	}
	items, next, err := s.App.Access.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	type entry struct {
		kopilka.AuditEntry
		Request, Before, After string
	}
	rows := make([]entry, len(items))
	for i, e := range items {
		rows[i] = entry{AuditEntry: e, Request: pretty(e.Request), Before: pretty(e.Before), After: pretty(e.After)}
	}
	data := map[string]any{"Items": rows, "F": v}
	if next != nil {
		data["Next"] = "/office/audit?" + withParam(v, "before", pageToken(next))
	}
	s.render(w, r, http.StatusOK, "audit", Office, q.T("Audit log"), data)
	return nil
}

// pretty indents a JSON document for reading ("" stays "").
func pretty(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return strconv.Quote(string(raw))
	}
	return b.String()
}

// keysPage lists the API keys with a form for a new one. A new key's
// secret is shown once, on the page that answers its creation.
func (s *Site) keysPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderKeys(w, r, http.StatusOK, nil, nil)
}

func (s *Site) renderKeys(w http.ResponseWriter, r *http.Request, status int, created *kopilka.APIKey, probs []kopilka.FieldError) error {
	q := reqOf(r)
	ks, err := s.App.Access.Keys(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, status, "keys", Office, q.T("API keys"), map[string]any{"Items": ks, "Created": created, "Roles": kopilka.KeyRoles,
		"Problems": probs, "Done": doneMessage(q, r.URL.Query().Get("done"))})
	return nil
}

func (s *Site) createKey(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	k := kopilka.APIKey{Name: f.Get("name"), Role: f.Get("role"), PartnerID: strings.TrimSpace(f.Get("partner_id"))}
	k.StoreIDs = commaList(f.Get("store_ids"))
	created, err := s.App.Access.CreateKey(r.Context(), k, "")
	if probs := problemsOf(err); probs != nil {
		return s.renderKeys(w, r, http.StatusUnprocessableEntity, nil, probs)
	} else if err != nil {
		return err
	}
	return s.renderKeys(w, r, http.StatusCreated, &created, nil)
}

func (s *Site) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.Access.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	if s.Forget != nil {
		s.Forget()
	}
	http.Redirect(w, r, "/office/keys?done=key-revoked", http.StatusSeeOther)
	return nil
}

// operatorsPage lists the back office's people with a form for a new one;
// each row changes the role, partner or status, sets a new password, or
// unlocks.
func (s *Site) operatorsPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderOperators(w, r, http.StatusOK, nil)
}

func (s *Site) renderOperators(w http.ResponseWriter, r *http.Request, status int, probs []kopilka.FieldError) error {
	q := reqOf(r)
	os, err := s.App.Access.Operators(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, status, "operators", Office, q.T("Operators"), map[string]any{"Items": os, "Roles": access.OperatorRoles,
		"Problems": probs, "Done": doneMessage(q, r.URL.Query().Get("done"))})
	return nil
}

// operatorInput reads an operator's form: the fields sent, "" left as is
// (a partner "-" takes the partner away).
func operatorInput(f url.Values) access.OperatorInput {
	var in access.OperatorInput
	for _, x := range []struct {
		name string
		dst  **string
	}{{"email", &in.Email}, {"name", &in.Name}, {"role", &in.Role}, {"status", &in.Status}, {"password", &in.Password}, {"partner_id", &in.PartnerID}} {
		if v, ok := f[x.name]; ok && strings.TrimSpace(v[0]) != "" {
			s := strings.TrimSpace(v[0])
			if x.name == "partner_id" && s == "-" {
				s = ""
			}
			*x.dst = &s
		}
	}
	return in
}

func (s *Site) createOperator(w http.ResponseWriter, r *http.Request) error {
	_, err := s.App.Access.CreateOperator(r.Context(), operatorInput(r.PostForm))
	if probs := problemsOf(err); probs != nil {
		return s.renderOperators(w, r, http.StatusUnprocessableEntity, probs)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/operators?done=operator-added", http.StatusSeeOther)
	return nil
}

func (s *Site) changeOperator(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var err error
	if r.PostForm.Get("unlock") != "" {
		_, err = s.App.Access.UnlockOperator(r.Context(), id)
	} else {
		_, err = s.App.Access.UpdateOperator(r.Context(), id, operatorInput(r.PostForm))
	}
	if probs := problemsOf(err); probs != nil {
		return s.renderOperators(w, r, http.StatusUnprocessableEntity, probs)
	} else if err != nil {
		return err
	}
	if s.Forget != nil {
		s.Forget()
	}
	http.Redirect(w, r, "/office/operators?done=operator-changed", http.StatusSeeOther)
	return nil
}
