package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
)

// The till's purchase flow: quote, confirm, read, refund, cancel.

func (s *Server) readReceipt(r *http.Request) (kopilka.Receipt, error) {
	body, err := readBody(r)
	if err != nil {
		return kopilka.Receipt{}, err
	}
	return DecodeReceipt(body)
}

func (s *Server) calculate(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.readReceipt(r)
	if err != nil {
		return err
	}
	q, err := s.App.Purchases.Calculate(r.Context(), rc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.readReceipt(r)
	if err != nil {
		return err
	}
	q, err := s.App.Purchases.Confirm(r.Context(), rc)
	if err != nil {
		return err
	}
	s.points.WithLabelValues("earned").Add(float64(q.Earned))
	s.points.WithLabelValues("spent").Add(float64(q.Spent))
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) getPurchase(w http.ResponseWriter, r *http.Request) error {
	q, err := s.App.Purchases.Purchase(r.Context(), r.URL.Query().Get("partner_id"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q)
	return nil
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	req, err := decodeRefund(body)
	if err != nil {
		return err
	}
	res, err := s.App.Purchases.Refund(r.Context(), r.URL.Query().Get("partner_id"), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) error {
	res, err := s.App.Purchases.Cancel(r.Context(), r.URL.Query().Get("partner_id"), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// listPurchases answers a page of purchases, newest first.
func (s *Server) listPurchases(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q := kopilka.PurchaseQuery{MemberID: v.Get("member_id"), StoreID: v.Get("store_id"), PartnerID: v.Get("partner_id")}
	var err error
	if q.Limit, err = queryInt(r, "limit", 0); err != nil {
		return err
	}
	if q.After, err = decodeCursor(v.Get("cursor")); err != nil {
		return err
	}
	eng, err := s.App.Programme.Engine(r.Context())
	if err != nil {
		return err
	}
	if q.From, err = spanParam(r, "from", eng.Loc); err != nil {
		return err
	}
	if q.To, err = spanParam(r, "to", eng.Loc); err != nil {
		return err
	}
	items, next, err := s.App.Purchases.ListPurchases(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, purchasePage{Items: items, NextCursor: encodeCursor(next)})
	return nil
}
