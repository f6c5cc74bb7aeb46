package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
)

// The member app's routes: the member's own, and nothing else.

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) myBalance(w http.ResponseWriter, r *http.Request) error {
	b, err := s.App.Ledger.MyBalance(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) myTransactions(w http.ResponseWriter, r *http.Request) error {
	return s.history(w, r, func(cur *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
		return s.App.Ledger.MyHistory(r.Context(), cur, limit)
	})
}

func (s *Server) myTier(w http.ResponseWriter, r *http.Request) error {
	t, err := s.App.Programme.MyTier(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) patchMe(w http.ResponseWriter, r *http.Request) error {
	var in kopilka.MemberPatch
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.App.Members.UpdateMe(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) putMyCategories(w http.ResponseWriter, r *http.Request) error {
	var in categoriesJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.App.Programme.MyCategories(r.Context(), in.Categories)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}
