package http

import (
	"container/heap"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/reports"
)

// analyticsSpan checks the format (checkFormat) and reads from and to
// (spanParams); absent, to is now and from a year before it.
func (s *Server) analyticsSpan(r *http.Request) (from, to time.Time, err error) {
	if err := checkFormat(r); err != nil {
		return from, to, err
	}
	if from, to, err = s.spanParams(r); err != nil {
		return from, to, err
	}
	if to.IsZero() {
		to = s.App.Env.Time()
	}
	if from.IsZero() {
		from = to.AddDate(-1, 0, 0)
	}
	return from, to, nil
}

// wantsCSV reports whether the request asks for CSV (format=csv, or
// Accept: text/csv without a format) and, if so, sets the headers of a
// download named name. A format that is neither is refused (checkFormat).
func wantsCSV(w http.ResponseWriter, r *http.Request, name string) (bool, error) {
	if err := checkFormat(r); err != nil {
		return false, err
	}
	format := r.URL.Query().Get("format")
	if format == "csv" || format == "" && r.Header.Get("Accept") == "text/csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return true, nil
	}
	return false, nil
}

// checkFormat refuses a format that is neither JSON nor CSV before any
// work is done.
func checkFormat(r *http.Request) error {
	if f := r.URL.Query().Get("format"); f != "" && f != "json" && f != "csv" {
		return kopilka.Invalid("format", `must be "json" or "csv"`)
	}
	return nil
}

// writeReport answers v as JSON, or by writeCSV as a CSV download named
// name when the request asks for CSV.
func writeReport(w http.ResponseWriter, r *http.Request, name string, v any, writeCSV func(io.Writer) error) error {
	csv, err := wantsCSV(w, r, name)
	if err != nil {
		return err
	}
	if csv {
		return writeCSV(w)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) kpis(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	k, err := s.App.Reports.KPIs(r.Context(), reports.KPIQuery{From: from, To: to, Bucket: reports.Bucket(q.Get("bucket")),
		StoreID: q.Get("store_id"), PartnerID: q.Get("partner_id"), Segment: q.Get("segment")})
	if err != nil {
		return err
	}
	return writeReport(w, r, "kpis", k, k.WriteCSV)
}

func (s *Server) cohorts(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	c, err := s.App.Reports.Cohorts(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeReport(w, r, "cohorts", c, c.WriteCSV)
}

func (s *Server) rfm(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	res, err := s.App.Reports.RFM(r.Context(), from, to)
	if err != nil {
		return err
	}
	return writeReport(w, r, "rfm", res, res.WriteCSV)
}

// rfmMemberList is a page of scored members; Next, when set, is the
// member id to pass as after for the next page.
type rfmMemberList struct {
	Items []reports.RFMRow `json:"items"`
	Next  string           `json:"next,omitempty"`
}

// rfmMembers lists scored members in member id order: as CSV, all of them
// streamed; as JSON, a page of limit (default 100, at most 1,000) after
// the member id after.
func (s *Server) rfmMembers(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return kopilka.Invalid("limit", "must be 1 to 1000")
	}
	csv, err := wantsCSV(w, r, "rfm-members")
	if err != nil {
		return err
	}
	if csv {
		out := reports.NewRFMCSV(w)
		if err := s.App.Reports.RFMMembers(r.Context(), from, to, q.Get("segment"), out.Write); err != nil {
			return err
		}
		return out.Flush()
	}
	// The database's order of member ids follows its collation; the page
	// is the limit smallest ids after after in bytes, kept in a heap.
	after := q.Get("after")
	h := &rfmHeap{}
	more := false
	err = s.App.Reports.RFMMembers(r.Context(), from, to, q.Get("segment"), func(m reports.RFMRow) error {
		if m.MemberID <= after {
			return nil
		}
		heap.Push(h, m)
		if h.Len() > limit {
			heap.Pop(h)
			more = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	list := rfmMemberList{Items: make([]reports.RFMRow, h.Len())}
	for i := h.Len() - 1; i >= 0; i-- {
		list.Items[i] = heap.Pop(h).(reports.RFMRow)
	}
	if more {
		list.Next = list.Items[len(list.Items)-1].MemberID
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// rfmHeap is a max-heap of rows by member id.
type rfmHeap []reports.RFMRow

func (h rfmHeap) Len() int           { return len(h) }
func (h rfmHeap) Less(i, j int) bool { return h[i].MemberID > h[j].MemberID }
func (h rfmHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *rfmHeap) Push(x any)        { *h = append(*h, x.(reports.RFMRow)) }
func (h *rfmHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// churn answers the churn model and the most at-risk members; as CSV,
// every member's risk.
func (s *Server) churn(w http.ResponseWriter, r *http.Request) error {
	if err := checkFormat(r); err != nil {
		return err
	}
	eng, err := s.App.Programme.Engine(r.Context())
	if err != nil {
		return err
	}
	at, err := spanParam(r, "at", eng.Loc)
	if err != nil {
		return err
	}
	var q reports.ChurnQuery
	q.At = at
	if q.HorizonDays, err = queryInt(r, "horizon_days", 0); err != nil {
		return err
	}
	if q.Limit, err = queryInt(r, "limit", 0); err != nil {
		return err
	}
	for name, dst := range map[string]*float64{"k": &q.K, "threshold": &q.Threshold} {
		if v := r.URL.Query().Get(name); v != "" {
			if *dst, err = strconv.ParseFloat(v, 64); err != nil {
				return kopilka.Invalid(name, "must be a number")
			}
		}
	}
	c, err := s.App.Reports.Churn(r.Context(), q)
	if err != nil {
		return err
	}
	return writeReport(w, r, "churn", c, c.WriteCSV)
}

func (s *Server) refreshAnalytics(w http.ResponseWriter, r *http.Request) error {
	res, err := s.App.Reports.Refresh(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) basketRules(w http.ResponseWriter, r *http.Request) error {
	from, to, err := s.analyticsSpan(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("from") == "" {
		from = to.AddDate(0, 0, -90)
	}
	q := reports.BasketQuery{From: from, To: to, Level: r.URL.Query().Get("level")}
	if q.Limit, err = queryInt(r, "limit", 0); err != nil {
		return err
	}
	for name, dst := range map[string]*float64{"min_support": &q.MinSupport, "min_confidence": &q.MinConfidence} {
		if v := r.URL.Query().Get(name); v != "" {
			if *dst, err = strconv.ParseFloat(v, 64); err != nil {
				return kopilka.Invalid(name, "must be a number")
			}
		}
	}
	res, err := s.App.Reports.BasketRules(r.Context(), q)
	if err != nil {
		return err
	}
	return writeReport(w, r, "basket-rules", res, res.WriteCSV)
}

func (s *Server) memberOffers(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	o, err := s.App.Reports.Offers(r.Context(), r.PathValue("id"), r.URL.Query().Get("level"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) campaignHoldout(w http.ResponseWriter, r *http.Request) error {
	h, err := s.App.Reports.Holdout(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}
