package http

import (
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/programme"
)

// The programme as one document, for version control: exported and
// imported as JSON or YAML (the same fields; YAML is read through JSON, so
// the same strict decoding and field names apply).

func wantsYAML(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "yaml":
		return true
	case "json":
		return false
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "yaml") && !strings.Contains(accept, "json")
}

func (s *Server) exportProgramme(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	doc := programmeDocument{Programme: p}
	if !wantsYAML(r) {
		writeJSON(w, http.StatusOK, doc)
		return nil
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", `attachment; filename="programme.yaml"`)
	_, err = w.Write(b)
	return err
}

// decodeDocument reads a JSON or YAML body (by Content-Type) into v strictly.
func decodeDocument(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeMaybeYAML(body, isYAML(r), v)
}

// isYAML reports whether the request says its body is YAML.
func isYAML(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.Contains(mt, "yaml")
}

// pathID fills an id the body left out with the path's and refuses another.
func pathID(id *string, r *http.Request) error {
	if *id == "" {
		*id = r.PathValue("id")
	}
	if *id != r.PathValue("id") {
		return kopilka.Invalid("id", "must match the id in the path")
	}
	return nil
}

func decodeMaybeYAML(body []byte, isYAML bool, v any) error {
	if isYAML {
		var err error
		if body, err = yaml.YAMLToJSON(body); err != nil {
			return kopilka.FieldErr(kopilka.EMALFORMED, "body", "is not YAML: "+strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
		}
	}
	return decodeBytes(body, v)
}

// DecodeProgramme reads a whole programme document, JSON or YAML, and
// validates it. Fields the document leaves out take their defaults: the
// document is the whole programme.
func DecodeProgramme(body []byte, isYAML bool) (kopilka.Programme, error) {
	var doc programmeImport
	doc.Programme = kopilka.DefaultProgramme()
	if err := decodeMaybeYAML(body, isYAML, &doc); err != nil {
		return kopilka.Programme{}, err
	}
	return doc.Programme, pricing.Validate(doc.Programme)
}

func (s *Server) importProgramme(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	p, err := DecodeProgramme(body, isYAML(r))
	if err != nil {
		return err
	}
	if dry, _ := strconv.ParseBool(r.URL.Query().Get("dry_run")); dry {
		if err := s.App.Programme.Check(r.Context(), p); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	}
	saved, err := s.App.Programme.SetProgramme(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, saved)
	return nil
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ruleList{Rules: p.Rules})
	return nil
}

func (s *Server) putRule(w http.ResponseWriter, r *http.Request) error {
	var rule kopilka.Rule
	if err := decodeDocument(r, &rule); err != nil {
		return err
	}
	if err := pathID(&rule.ID, r); err != nil {
		return err
	}
	if _, err := s.App.Programme.PutRule(r.Context(), rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rule) // stored as given
	return nil
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.App.Programme.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, campaignList{Campaigns: p.Campaigns})
	return nil
}

func (s *Server) putCampaign(w http.ResponseWriter, r *http.Request) error {
	var c kopilka.Campaign
	if err := decodeDocument(r, &c); err != nil {
		return err
	}
	if err := pathID(&c.ID, r); err != nil {
		return err
	}
	if _, err := s.App.Programme.PutCampaign(r.Context(), c); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c) // stored as given
	return nil
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.App.Programme.DeleteCampaign(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) simulate(w http.ResponseWriter, r *http.Request) error {
	var pr programme.Proposal
	if err := decodeDocument(r, &pr); err != nil {
		return err
	}
	sim, err := s.App.Programme.Simulate(r.Context(), pr)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sim)
	return nil
}

// simulateCampaign simulates a stored campaign switched on, over ?days= (30).
func (s *Server) simulateCampaign(w http.ResponseWriter, r *http.Request) error {
	days := 30
	if v := r.URL.Query().Get("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return kopilka.Invalid("days", "must be a whole number of days")
		}
		days = n
	}
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	for _, c := range p.Campaigns {
		if c.ID == r.PathValue("id") {
			sim, err := s.App.Programme.Simulate(r.Context(), programme.Proposal{Days: days, Campaign: &c})
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, sim)
			return nil
		}
	}
	return kopilka.Errorf(kopilka.ENOTFOUND, "no campaign has id %q", r.PathValue("id"))
}

func (s *Server) tier(w http.ResponseWriter, r *http.Request) error {
	t, err := s.App.Programme.Tier(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) putCategories(w http.ResponseWriter, r *http.Request) error {
	var in categoriesJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := s.App.Programme.SetCategories(r.Context(), r.PathValue("id"), in.Categories)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) getProgramme(w http.ResponseWriter, r *http.Request) error {
	p, err := s.App.Programme.Programme(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putProgramme replaces the programme's settings: every field must be sent
// (as GET /v1/programme gives them), so that none is left as it was by
// mistake; patchProgramme changes the fields sent.
func (s *Server) putProgramme(w http.ResponseWriter, r *http.Request) error {
	return s.changeProgramme(w, r, false)
}

func (s *Server) patchProgramme(w http.ResponseWriter, r *http.Request) error {
	return s.changeProgramme(w, r, true)
}

func (s *Server) changeProgramme(w http.ResponseWriter, r *http.Request, patch bool) error {
	var in programmeJSON
	ch, err := decodeChange(r, &in, patch)
	if err != nil {
		return err
	}
	if !patch {
		var pr kopilka.Problems
		t := reflect.TypeFor[programmeJSON]()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			if name != "updated_at" && !ch.Sent[name] {
				pr.Add(name, "was not sent: a PUT replaces the whole programme (as GET /v1/programme gives it); change only some fields with PATCH")
			}
		}
		if err := pr.Err(); err != nil {
			return err
		}
	}
	p, err := s.App.Programme.UpdateProgramme(r.Context(), in.apply)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
