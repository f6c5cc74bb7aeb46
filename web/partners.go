package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Partners and stores: the lists a partner's manager sees scoped to their
// own partner, its statement for any span and its closed months, as pages
// and as CSV.

func (s *Site) partnerList(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	ps, err := s.App.Coalition.Partners(r.Context())
	if err != nil {
		return err
	}
	if q.who.Scoped() && len(ps) == 1 {
		http.Redirect(w, r, "/office/partners/"+url.PathEscape(ps[0].ID), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "partners", Office, q.T("Partners"), map[string]any{"Items": ps,
		"CanWrite": access.Allow(r.Context(), access.PartnersWrite) == nil})
	return nil
}

func (s *Site) partnerPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	ctx := r.Context()
	id := r.PathValue("id")
	p, err := s.App.Coalition.Partner(ctx, id)
	if err != nil {
		return err
	}
	data := map[string]any{"P": p, "Done": doneMessage(q, r.URL.Query().Get("done")),
		"CanWrite": access.Allow(ctx, access.PartnersWrite) == nil, "CanRates": access.Allow(ctx, access.PartnersRates) == nil,
		"CanStores": access.Allow(ctx, access.StoresWrite) == nil}
	if access.Allow(ctx, access.PartnersStores) == nil {
		stores, err := s.App.Coalition.Stores(ctx, id, "", 500)
		if err != nil {
			return err
		}
		data["Stores"] = stores
		data["Map"] = storeMap(s.TileURL, stores)
	}
	if access.Allow(ctx, access.PartnersReports) == nil {
		sts, err := s.App.Coalition.Settlements(ctx, id)
		if err != nil {
			return err
		}
		local := s.App.Env.Time().In(q.zone())
		data["Settlements"], data["CanReports"] = sts, true
		data["From"] = time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, q.zone()).Format(time.DateOnly)
		data["To"] = local.Format(time.DateOnly)
	}
	s.render(w, r, http.StatusOK, "partner", Office, p.Name, data)
	return nil
}

// statementPage is a partner's statement for a span of days (from, to, in
// the programme's time zone, to counting whole) or a month (period), as a
// page or, with format=csv, a file.
func (s *Site) statementPage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	id := r.PathValue("id")
	period := r.PathValue("period")
	var from, to time.Time
	if period == "" {
		var err error
		if from, err = dateParam(r, "from", q.zone(), false); err != nil {
			return err
		}
		if to, err = dateParam(r, "to", q.zone(), true); err != nil {
			return err
		}
	}
	st, err := s.App.Coalition.Statement(r.Context(), id, period, from, to)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+st.FileName()+`.csv"`)
		return st.WriteCSV(w)
	}
	csvURL := r.URL.EscapedPath() + "?" + withParam(r.URL.Query(), "format", "csv")
	shown := st.Entries
	if len(shown) > 500 {
		shown = shown[:500]
	}
	s.render(w, r, http.StatusOK, "statement", Office, q.T("Statement")+": "+id, map[string]any{"St": st, "Entries": shown,
		"More": len(st.Entries) - len(shown), "CSV": csvURL})
	return nil
}

// dateParam reads a date (YYYY-MM-DD) in loc; end makes it the next day's
// start, so that the day counts whole.
func dateParam(r *http.Request, name string, loc *time.Location, end bool) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, r.URL.Query().Get(name), loc)
	if err != nil || t.Year() < 1900 || t.Year() >= 9000 {
		return time.Time{}, kopilka.Invalid(name, "must be a date, YYYY-MM-DD, from 1900 to 8999")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t.UTC(), nil
}

func withParam(v url.Values, k, val string) string {
	c := url.Values{}
	for key, vs := range v {
		c[key] = vs
	}
	c.Set(k, val)
	return c.Encode()
}

func (s *Site) storePage(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	st, err := s.App.Coalition.Store(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	data := map[string]any{"S": st, "CanWrite": access.Allow(r.Context(), access.StoresWrite) == nil,
		"Done": doneMessage(q, r.URL.Query().Get("done")), "Map": storeMap(s.TileURL, []kopilka.Store{st})}
	s.render(w, r, http.StatusOK, "store", Office, st.Name, data)
	return nil
}

// changeStore changes a store's name, address, place and status from its
// page; the opening hours and time zone stay as they are.
func (s *Site) changeStore(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	id := r.PathValue("id")
	in := kopilka.Store{ID: id, Name: f.Get("name"), Address: f.Get("address"), Status: f.Get("status")}
	sent := map[string]bool{"name": true, "address": true, "status": true, "lat": true, "lon": true}
	if err := storePlace(f, &in); err != nil {
		return err
	}
	if _, err := s.App.Coalition.ChangeStore(r.Context(), in, kopilka.Change{Sent: sent, Patch: true}); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/stores/"+url.PathEscape(id)+"?done=store-saved", http.StatusSeeOther)
	return nil
}

// savePartner adds a partner (from the list) or changes one (from its
// page): name, legal id, status, its own rates and the categories it sells.
// Empty rates are the programme's.
func (s *Site) savePartner(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	id := strings.TrimSpace(f.Get("id"))
	if pid := r.PathValue("id"); pid != "" {
		id = pid
	}
	p := kopilka.Partner{ID: id, Name: strings.TrimSpace(f.Get("name")), LegalID: strings.TrimSpace(f.Get("legal_id")), Status: f.Get("status")}
	var pr kopilka.Problems
	p.EarnRate, p.MaxSpend = optionalPercent(&pr, f.Get("earn_rate_percent"), "earn_rate_percent"), optionalPercent(&pr, f.Get("max_spend_percent"), "max_spend_percent")
	p.Categories = commaList(f.Get("categories"))
	if err := pr.Err(); err != nil {
		return err
	}
	sent := map[string]bool{"name": true, "legal_id": true, "status": true, "earn_rate_percent": true, "max_spend_percent": true, "categories": true}
	ch := kopilka.Change{Sent: sent, Patch: r.PathValue("id") != ""}
	if !ch.Patch {
		ch = kopilka.Change{Create: true} // a new partner: every field as given, never over an old one
	}
	saved, err := s.App.Coalition.ChangePartner(r.Context(), p, ch)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/partners/"+url.PathEscape(saved.ID)+"?done=partner-saved", http.StatusSeeOther)
	return nil
}

// saveRates changes a partner's own rates: what its manager may change.
func (s *Site) saveRates(w http.ResponseWriter, r *http.Request) error {
	var pr kopilka.Problems
	earn := optionalPercent(&pr, r.PostForm.Get("earn_rate_percent"), "earn_rate_percent")
	spend := optionalPercent(&pr, r.PostForm.Get("max_spend_percent"), "max_spend_percent")
	if err := pr.Err(); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := s.App.Coalition.SetPartnerRates(r.Context(), id, earn, spend); err != nil {
		return err
	}
	http.Redirect(w, r, "/office/partners/"+url.PathEscape(id)+"?done=partner-saved", http.StatusSeeOther)
	return nil
}

// optionalPercent reads a per cent that may be left empty (nil).
func optionalPercent(pr *kopilka.Problems, v, field string) *kopilka.Percent {
	if v = decimal(v); v == "" {
		return nil
	}
	p, err := kopilka.ParsePercent(v)
	if err != nil {
		pr.Add(field, "must be a number of per cent, such as 5 or 2.5, or empty for the programme's")
		return nil
	}
	return &p
}

// addStore adds a store to the partner from its page (always open, its
// hours read in UTC until its form or the API sets them); an id that is
// taken is refused, never replaced.
func (s *Site) addStore(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	partner := r.PathValue("id")
	st := kopilka.Store{ID: strings.TrimSpace(f.Get("id")), PartnerID: partner, Name: strings.TrimSpace(f.Get("name")), Address: strings.TrimSpace(f.Get("address"))}
	if err := storePlace(f, &st); err != nil {
		return err
	}
	saved, err := s.App.Coalition.ChangeStore(r.Context(), st, kopilka.Change{Create: true})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/office/stores/"+url.PathEscape(saved.ID)+"?done=store-saved", http.StatusSeeOther)
	return nil
}
