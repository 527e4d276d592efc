package server

import (
	"embed"
	"net/http"
)

// static is compiled into the binary so the container needs no files and can
// run with a read-only root filesystem.
//
//go:embed static
var static embed.FS

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	setStaticHeaders(w)
	http.ServeFileFS(w, r, static, "static/index.html")
}

func (s *Server) appJS(w http.ResponseWriter, r *http.Request) {
	setStaticHeaders(w)
	http.ServeFileFS(w, r, static, "static/app.js")
}

// The page's script lives in app.js rather than inline so a strict CSP works.
func setStaticHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
}
