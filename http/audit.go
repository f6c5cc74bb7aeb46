package http

import (
	"net/http"
	"time"

	"github.com/kopilka/kopilka"
)

// The audit log, read by admins.

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := kopilka.AuditFilter{ActorID: q.Get("actor_id"), Action: q.Get("action"), Target: q.Get("target"), PartnerID: q.Get("partner_id")}
	for _, b := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return kopilka.Invalid(b.name, "must be a time in RFC 3339")
			}
			*b.dst = t
		}
	}
	var err error
	if f.Limit, err = queryInt(r, "limit", 100); err != nil {
		return err
	}
	if f.Before, err = decodeCursor(q.Get("cursor")); err != nil {
		return err
	}
	items, next, err := s.App.Access.Audit(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, auditPage{Items: items, NextCursor: encodeCursor(next)})
	return nil
}
