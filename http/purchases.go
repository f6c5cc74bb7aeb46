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
