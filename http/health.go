package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/testclock"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Health and the API document: what a load balancer and a client's code generator read.

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, healthJSON{Status: "ok", Version: s.Version})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.App.DB.Ping(r.Context()); err != nil {
		s.Logger.Warn("not ready", "err", err)
		return kopilka.Errorf(kopilka.EUNAVAILABLE, "the database does not answer")
	}
	ready := readyJSON{Status: "ready"}
	if s.App.Clock.Enabled {
		now := s.App.Env.Time()
		ready.TestClock = &now
	}
	writeJSON(w, http.StatusOK, ready)
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, err := w.Write(openAPI)
	return err
}

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

func (s *Server) getClock(w http.ResponseWriter, r *http.Request) error {
	c, err := s.App.Clock.Get(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) moveClock(w http.ResponseWriter, r *http.Request) error {
	var in testclock.Set
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.App.Clock.Move(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
