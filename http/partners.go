package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
)

// Partners of the coalition: their own rates, statements and settlements.

func (s *Server) listPartners(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.App.Coalition.Partners(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, partnerList{Items: ps})
	return nil
}

func (s *Server) getPartner(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	p, err := s.App.Coalition.Partner(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

type partnerJSON struct {
	Name       string           `json:"name"`
	LegalID    string           `json:"legal_id"`
	Status     string           `json:"status"`
	EarnRate   *kopilka.Percent `json:"earn_rate_percent"`
	MaxSpend   *kopilka.Percent `json:"max_spend_percent"`
	Categories []string         `json:"categories"`
}

func (s *Server) putPartner(w http.ResponseWriter, r *http.Request) error {
	return s.changePartner(w, r, false)
}

func (s *Server) patchPartner(w http.ResponseWriter, r *http.Request) error {
	return s.changePartner(w, r, true)
}

func (s *Server) changePartner(w http.ResponseWriter, r *http.Request, patch bool) error {
	var in partnerJSON
	ch, err := decodeChange(r, &in, patch)
	if err != nil {
		return err
	}
	p, err := s.App.Coalition.ChangePartner(r.Context(), kopilka.Partner{ID: r.PathValue("id"), Name: in.Name, LegalID: in.LegalID,
		Status: in.Status, EarnRate: in.EarnRate, MaxSpend: in.MaxSpend, Categories: in.Categories}, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) putPartnerRates(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	var in partnerRatesJSON
	ch, err := decodeChange(r, &in, false)
	if err != nil {
		return err
	}
	p, err := s.App.Coalition.ChangePartnerRates(r.Context(), id, in.EarnRate, in.MaxSpend, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// statement answers a report over ?from=&to=: times in RFC 3339 (an
// offset's "+" may arrive unencoded, as a space), or dates (YYYY-MM-DD) in
// the programme's time zone, a date in to counting whole.
func (s *Server) statement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	from, to, err := s.spanParams(r)
	if err != nil {
		return err
	}
	for i, t := range []time.Time{from, to} {
		if t.IsZero() {
			return kopilka.Invalid([]string{"from", "to"}[i], "is required: a date (2026-10-01) or a time in RFC 3339")
		}
	}
	st, err := s.App.Coalition.Statement(r.Context(), id, "", from, to)
	if err != nil {
		return err
	}
	return writeStatement(w, r, st)
}

func (s *Server) getSettlement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	st, err := s.App.Coalition.Statement(r.Context(), id, r.PathValue("period"), time.Time{}, time.Time{})
	if err != nil {
		return err
	}
	return writeStatement(w, r, st)
}

func (s *Server) closeSettlement(w http.ResponseWriter, r *http.Request) error {
	var in settlementJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	st, err := s.App.Coalition.CloseSettlement(r.Context(), r.PathValue("id"), in.Period)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// writeStatement answers JSON, or CSV for ?format=csv or Accept: text/csv
// (kopilka.Statement.WriteCSV).
func writeStatement(w http.ResponseWriter, r *http.Request, st kopilka.Statement) error {
	return writeReport(w, r, st.FileName(), st, st.WriteCSV)
}

// spanParams reads from and to (spanParam; absent: zero) in the
// programme's time zone.
func (s *Server) spanParams(r *http.Request) (from, to time.Time, err error) {
	eng, err := s.App.Programme.Engine(r.Context())
	if err != nil {
		return from, to, err
	}
	if from, err = spanParam(r, "from", eng.Loc); err != nil {
		return from, to, err
	}
	to, err = spanParam(r, "to", eng.Loc)
	return from, to, err
}

// spanParam reads the query parameter name ("from" or "to"; absent: zero):
// a date (YYYY-MM-DD) in loc, a "to" date counting its whole day, or a time
// in RFC 3339 whose "+" may have arrived unencoded, as a space.
func spanParam(r *http.Request, name string, loc *time.Location) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, ok := dayParam(v, loc, name == "to")
	if !ok {
		var err error
		if t, err = time.Parse(time.RFC3339, strings.Replace(v, " ", "+", 1)); err != nil {
			return time.Time{}, kopilka.Invalid(name, "must be a date (2026-10-01, in the programme's time zone; to counts its whole day) or a time in RFC 3339 (2026-10-01T00:00:00+03:00)")
		}
	}
	// Years past these are no one's purchases, and do not fit the answers.
	if t.Year() < 1900 || t.Year() >= 9000 {
		return time.Time{}, kopilka.Invalid(name, "must be a date from 1900 to 8999")
	}
	return t.UTC(), nil
}

// dayParam reads v as a day (YYYY-MM-DD) in loc: its start, or with end the
// start of the next day, so that the day counts whole; in UTC.
func dayParam(v string, loc *time.Location, end bool) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		d = d.AddDate(0, 0, 1) // the whole of that day
	}
	return d.UTC(), true
}

type settlementList struct {
	Items []kopilka.Statement `json:"items"`
}

func (s *Server) listSettlements(w http.ResponseWriter, r *http.Request) error {
	sts, err := s.App.Coalition.Settlements(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settlementList{Items: sts})
	return nil
}
