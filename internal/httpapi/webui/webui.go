// Package webui is the queue page people work from: their work and the queue
// (unassigned first), claim and assign-to-me, reassign with a comment, unassign,
// and a claim's timeline. It is plain HTML with a little script, embedded in the
// binary, calling the authenticated JSON API with the caller's token; there is no
// front-end build step.
package webui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page at / and its assets under /static/.
func Handler() http.Handler {
	sub, _ := fs.Sub(static, "static") // the directory is embedded above; it exists
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		http.ServeFileFS(w, r, sub, "index.html")
	})
	return mux
}
