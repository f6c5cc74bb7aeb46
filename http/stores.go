package http

import (
	"net/http"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/coalition"
)

// Stores of the coalition's partners, and the nearest ones to a point.

func (s *Server) listStores(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	var os []kopilka.Store
	if id == "" { // GET /v1/stores: every partner's
		os, err = s.App.Coalition.AllStores(r.Context(), r.URL.Query().Get("after"), limit)
	} else {
		os, err = s.App.Coalition.Stores(r.Context(), id, r.URL.Query().Get("after"), limit)
	}
	if err != nil {
		return err
	}
	next := ""
	if len(os) == limit {
		next = os[len(os)-1].ID
	}
	writeJSON(w, http.StatusOK, storePage{Items: os, NextAfter: next})
	return nil
}

func (s *Server) getStore(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	o, err := s.App.Coalition.Store(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

type storeJSON struct {
	PartnerID string                 `json:"partner_id"`
	Name      string                 `json:"name"`
	Address   string                 `json:"address"`
	Lat       *float64               `json:"lat"`
	Lon       *float64               `json:"lon"`
	TimeZone  string                 `json:"time_zone"`
	Hours     []kopilka.OpeningHours `json:"hours"`
	Status    string                 `json:"status"`
}

func (s *Server) putStore(w http.ResponseWriter, r *http.Request) error {
	return s.changeStore(w, r, false)
}

func (s *Server) patchStore(w http.ResponseWriter, r *http.Request) error {
	return s.changeStore(w, r, true)
}

func (s *Server) changeStore(w http.ResponseWriter, r *http.Request, patch bool) error {
	var in storeJSON
	ch, err := decodeChange(r, &in, patch)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	o, err := s.App.Coalition.ChangeStore(r.Context(), kopilka.Store{ID: id, PartnerID: in.PartnerID, Name: in.Name, Address: in.Address,
		Lat: in.Lat, Lon: in.Lon, TimeZone: in.TimeZone, Hours: in.Hours, Status: in.Status}, ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

func (s *Server) nearby(w http.ResponseWriter, r *http.Request) error {
	var q coalition.NearbyQuery
	var err error
	if q.Lat, err = queryFloat(r, "lat"); err != nil {
		return err
	}
	if q.Lon, err = queryFloat(r, "lon"); err != nil {
		return err
	}
	if q.RadiusM, err = queryInt(r, "radius_m", 5000); err != nil {
		return err
	}
	if q.Limit, err = queryInt(r, "limit", 20); err != nil {
		return err
	}
	q.Category = r.URL.Query().Get("category")
	switch v := r.URL.Query().Get("open_now"); v {
	case "", "false":
	case "true":
		q.OpenNow = true
	default:
		return kopilka.Invalid("open_now", `must be "true" or "false"`)
	}
	stores, err := s.App.Coalition.Nearby(r.Context(), q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nearbyList{Items: stores})
	return nil
}
