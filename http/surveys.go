package http

import (
	"net/http"

	"github.com/kopilka/kopilka/surveys"
)

// surveyList is the programme's surveys.
type surveyList struct {
	Items []surveys.Survey `json:"items"`
}

// invitationList is the signed-in member's survey invitations.
type invitationList struct {
	Items []surveys.Invitation `json:"items"`
}

func (s *Server) putSurvey(w http.ResponseWriter, r *http.Request) error {
	var in surveys.Survey
	if err := decode(r, &in); err != nil {
		return err
	}
	in.ID = r.PathValue("id")
	out, err := s.App.Surveys.PutSurvey(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listSurveys(w http.ResponseWriter, r *http.Request) error {
	out, err := s.App.Surveys.Surveys(r.Context())
	if err != nil {
		return err
	}
	if out == nil {
		out = []surveys.Survey{}
	}
	writeJSON(w, http.StatusOK, surveyList{Items: out})
	return nil
}

func (s *Server) surveyResults(w http.ResponseWriter, r *http.Request) error {
	if err := checkFormat(r); err != nil {
		return err
	}
	from, to, err := s.spanParams(r)
	if err != nil {
		return err
	}
	res, err := s.App.Surveys.Results(r.Context(), r.PathValue("id"), from, to, r.URL.Query().Get("by"))
	if err != nil {
		return err
	}
	return writeReport(w, r, "survey-"+res.SurveyID, res, res.WriteCSV)
}

func (s *Server) mySurveys(w http.ResponseWriter, r *http.Request) error {
	out, err := s.App.Surveys.Mine(r.Context())
	if err != nil {
		return err
	}
	if out == nil {
		out = []surveys.Invitation{}
	}
	writeJSON(w, http.StatusOK, invitationList{Items: out})
	return nil
}

func (s *Server) answerSurvey(w http.ResponseWriter, r *http.Request) error {
	var in surveys.Answer
	if err := decode(r, &in); err != nil {
		return err
	}
	inv, err := s.App.Surveys.Answer(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inv)
	return nil
}
