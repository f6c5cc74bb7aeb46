package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/kopilka/kopilka"
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
		if x := v.Get(d.name); x != "" {
			t, err := time.ParseInLocation(time.DateOnly, x, q.zone())
			if err != nil {
				return kopilka.Invalid(d.name, "must be a date, YYYY-MM-DD")
			}
			if d.end {
				t = t.AddDate(0, 0, 1)
			}
			*d.dst = t.UTC()
		}
	}
	if c := v.Get("before"); c != "" {
		b, err := base64.RawURLEncoding.DecodeString(c)
		var cur kopilka.Cursor
		if err != nil || json.Unmarshal(b, &cur) != nil {
			return kopilka.Invalid("before", "is not a page of this log")
		}
		f.Before = &cur
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
		b, _ := json.Marshal(next)
		nv := url.Values{}
		for k, vs := range v {
			nv[k] = vs
		}
		nv.Set("before", base64.RawURLEncoding.EncodeToString(b))
		data["Next"] = "/office/audit?" + nv.Encode()
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
