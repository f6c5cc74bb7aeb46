package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/cases"
)

// The service centre's cases.

type casePage struct {
	Items      []cases.Case `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

type caseText struct {
	Text string `json:"text"`
}

type caseResolution struct {
	Resolution string `json:"resolution"`
}

type caseReopening struct {
	Reason string `json:"reason"`
}

type caseCompensated struct {
	Case        cases.Case          `json:"case"`
	Transaction kopilka.Transaction `json:"transaction"`
}

func (s *Server) openCase(w http.ResponseWriter, r *http.Request) error {
	var in cases.Opening
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.App.Cases.Open(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) listCases(w http.ResponseWriter, r *http.Request) error {
	q := cases.Query{MemberID: r.URL.Query().Get("member_id"), Status: r.URL.Query().Get("status")}
	var err error
	if q.Limit, err = queryInt(r, "limit", 0); err != nil {
		return err
	}
	if q.Before, err = decodeCursor(r.URL.Query().Get("cursor")); err != nil {
		return err
	}
	items, next, err := s.App.Cases.List(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, casePage{Items: items, NextCursor: encodeCursor(next)})
	return nil
}

// caseStats counts the cases opened in the span; without from and to, the
// last 30 days.
func (s *Server) caseStats(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.spanParams(r)
	if err != nil {
		return err
	}
	st, err := s.App.Cases.Stats(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Cases.Case(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) noteCase(w http.ResponseWriter, r *http.Request) error {
	var in caseText
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.App.Cases.AddNote(r.Context(), r.PathValue("id"), in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) resolveCase(w http.ResponseWriter, r *http.Request) error {
	var in caseResolution
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.App.Cases.Resolve(r.Context(), r.PathValue("id"), in.Resolution)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) reopenCase(w http.ResponseWriter, r *http.Request) error {
	var in caseReopening
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.App.Cases.Reopen(r.Context(), r.PathValue("id"), in.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) compensateCase(w http.ResponseWriter, r *http.Request) error {
	var in cases.Compensation
	if err := decode(r, &in); err != nil {
		return err
	}
	c, t, err := s.App.Cases.Compensate(r.Context(), r.PathValue("id"), in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, caseCompensated{Case: c, Transaction: t})
	return nil
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) error {
	o, err := s.App.Reports.Overview(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
