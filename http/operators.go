package http

import (
	"net/http"

	"github.com/kopilka/kopilka/access"
)

// Operator accounts of the back office.

func (s *Server) listOperators(w http.ResponseWriter, r *http.Request) error {
	os, err := s.App.Access.Operators(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, operatorList{Items: os})
	return nil
}

func (s *Server) createOperator(w http.ResponseWriter, r *http.Request) error {
	var in access.OperatorInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := s.App.Access.CreateOperator(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/operators/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) getOperator(w http.ResponseWriter, r *http.Request) error {
	o, err := s.App.Access.Operator(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) patchOperator(w http.ResponseWriter, r *http.Request) error {
	var in access.OperatorInput
	if err := decode(r, &in); err != nil {
		return err
	}
	o, err := s.App.Access.UpdateOperator(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	s.forgetPrincipals() // a disabled operator or a changed role counts at once here
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) unlockOperator(w http.ResponseWriter, r *http.Request) error {
	o, err := s.App.Access.UnlockOperator(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
