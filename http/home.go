package http

import (
	_ "embed"
	"net/http"
)

// homePage is what a person who opens the server's address in a browser
// finds: where to go, in Russian and English. It is embedded in the binary.
//
//go:embed home.html
var homePage []byte

// home answers GET / with the page; any other path no route takes is 404
// (GET / is the pattern every unknown GET path falls to).
func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path != "/" {
		s.noRoute(w, r)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	_, err := w.Write(homePage)
	return err
}
