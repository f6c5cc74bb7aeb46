package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is a file under static/, served at /static/{name}.
type asset struct {
	body []byte
	kind string
}

// loadAssets reads the static files and hashes them all together: their
// addresses carry the hash (?v=), so a browser keeps them until they change.
func (s *Site) loadAssets() {
	s.assets = map[string]asset{}
	names, err := fs.Glob(staticFS, "static/*")
	if err != nil {
		panic(err)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := staticFS.ReadFile(n)
		if err != nil {
			panic(err)
		}
		name := path.Base(n)
		kind := mime.TypeByExtension(path.Ext(name))
		if path.Ext(name) == ".webmanifest" {
			kind = "application/manifest+json"
		}
		s.assets[name] = asset{body: b, kind: kind}
		h.Write([]byte(name))
		h.Write(b)
	}
	s.version = hex.EncodeToString(h.Sum(nil))[:12]
}

// static serves an embedded asset. With the current version in its address
// it may be kept for a year; the service worker (sw.js) is always checked.
func (s *Site) static(w http.ResponseWriter, r *http.Request) error {
	a, ok := s.assets[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return nil
	}
	w.Header().Set("Content-Type", a.kind)
	if r.URL.Query().Get("v") == s.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, err := w.Write(a.body)
	return err
}

// serviceWorker serves sw.js from /app/, the scope it keeps the card for.
func (s *Site) serviceWorker(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, err := w.Write(s.assets["sw.js"].body)
	return err
}
