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
