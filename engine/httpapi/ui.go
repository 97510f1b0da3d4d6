package httpapi

import (
	"embed"
	"io/fs"
	"net/http"
)

// uiFiles is the operator's page: plain HTML, CSS and JavaScript, embedded so that
// `ruleflow serve` serves it with no file on disk and no network fetch.
//
//go:embed ui
var uiFiles embed.FS

// uiRoutes serves the operator's page under /ui/. The page itself is public (it
// holds no data); everything it shows comes from the admin API, called with the
// token the operator signs in with, which the page keeps in sessionStorage and
// sends as a bearer header (no cookie, so no CSRF).
func (h *Handler) uiRoutes(handle func(method, path string, fn http.HandlerFunc)) {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/ui/", http.FileServerFS(sub))
	handle("GET", "/ui/", func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	handle("GET", "/ui", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
	})
}
