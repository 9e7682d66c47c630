package httpapi

import (
	"net/http"
	"time"
)

// The limits every Baton HTTP server sets (the API here, the metrics server in
// package metrics), so a client that opens connections and sends nothing, or
// a body a byte at a time, is cut off instead of holding a connection and a
// goroutine for ever:
//   - ReadHeaderTimeout: the request line and headers within 10 s;
//   - ReadTimeout: the whole request, body included, within 30 s (bodies are
//     at most MaxBodyBytes);
//   - WriteTimeout: the answer within 60 s of the request being read;
//   - IdleTimeout: a kept-alive connection with no request closes after 2 min;
//   - MaxHeaderBytes: headers of at most 64 KB.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// NewHTTPServer is an http.Server for h with Baton's limits. TLS is left to
// a proxy in front (docs/operations.md).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes}
}
