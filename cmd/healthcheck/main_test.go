package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHealthy(t *testing.T) {
	var path string
	url := serve(t, func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		_, _ = w.Write([]byte("ok"))
	})
	require.NoError(t, run(url+"/healthz"))
	require.Equal(t, "/healthz", path, "the probe must ask the URL it was given")
}

func TestUnhealthyStatus(t *testing.T) {
	url := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "database down", http.StatusInternalServerError)
	})
	err := run(url + "/healthz")
	require.Error(t, err)
	require.Contains(t, err.Error(), "500")
}

func TestOnly200IsHealthy(t *testing.T) {
	for _, code := range []int{http.StatusNoContent, http.StatusFound, http.StatusServiceUnavailable} {
		url := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if code == http.StatusFound {
				http.Redirect(w, r, "/elsewhere", code) // not followed
				return
			}
			w.WriteHeader(code)
		})
		require.Error(t, run(url+"/healthz"), "HTTP %d", code)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	require.Error(t, run(url+"/healthz"))
}

func TestHungServerTimesOut(t *testing.T) {
	old := timeout
	timeout = 200 * time.Millisecond
	t.Cleanup(func() { timeout = old })
	url := serve(t, func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; released when the client gives up
	})
	start := time.Now()
	require.Error(t, run(url+"/healthz"))
	require.Less(t, time.Since(start), 10*time.Second, "the client timeout must bound the probe")
}
