package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/claimclient"
)

// Every answer, the queue page, an API error and /healthz alike, carries the
// headers that keep a browser from sniffing, framing or leaking it.
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	t.Parallel()
	h := New(claimclient.New(&fakeTemporal{}, "t"), nil, nil).Handler()
	for _, path := range []string{"/", "/healthz", "/api/me", "/nowhere"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), path)
		require.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"), path)
		require.Contains(t, rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
		require.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"), path)
	}
}

// An offset past MaxOffset is the caller's mistake, named, not a 500.
func TestHugeOffsetIsRefused(t *testing.T) {
	t.Parallel()
	h, _ := fuzzServer()
	a := serve(t, h, httptest.NewRequest(http.MethodGet, "/claims/c1/assignment-options/capture?offset=2147483647", nil))
	require.Equal(t, http.StatusBadRequest, a.code)
	require.Equal(t, "invalid_query", a.errCode)
	require.Equal(t, `offset="2147483647": want a whole number (offset 0 to 10000000, limit 1 to 1000)`, a.msg)
}
