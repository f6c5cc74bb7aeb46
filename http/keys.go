package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
)

// API keys: created (the secret shown once), listed and revoked.

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) error {
	ks, err := s.App.Access.Keys(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiKeyList{Items: ks})
	return nil
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request) error {
	var in newKeyJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.App.Access.CreateKey(r.Context(), kopilka.APIKey{Name: in.Name, Role: in.Role, PartnerID: in.PartnerID,
		StoreIDs: in.StoreIDs, ExpiresAt: in.ExpiresAt}, "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.Access.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	s.forgetPrincipals() // this instance stops honouring it at once
	w.WriteHeader(http.StatusNoContent)
	return nil
}
