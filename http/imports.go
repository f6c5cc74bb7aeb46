package http

import (
	"io"
	"net/http"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/importer"
)

// startMemberImport takes a file of members (CSV, or JSON lines with
// format=jsonl) as the body and starts importing it as a job.
func (s *Server) startMemberImport(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body) // the server's limit is importer.MaxJobBody+1 here
	if err != nil || len(body) > importer.MaxJobBody {
		return &kopilka.Error{Code: kopilka.ETOOLARGE, Message: "a member file over the API is at most 32 MiB: use kopilka import members"}
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	j, err := s.App.Import.StartMemberImport(r.Context(), body, format, r.URL.Query().Get("source"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/imports/"+j.ID)
	writeJSON(w, http.StatusAccepted, j)
	return nil
}

func (s *Server) getImport(w http.ResponseWriter, r *http.Request) error {
	j, err := s.App.Import.GetJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}
