package httpapi_test

import (
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/httpapi"
)

// A client that opens connections, declares a body and never sends it holds
// nothing for long: the API server closes every such connection once
// httpapi.ReadTimeout has passed (within a minute, as the security table
// promises), whether or not a token came with it.
func TestSlowConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	srv := httpapi.NewHTTPServer(httpapi.New(nil, nil, nil).Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed
	t.Cleanup(func() { _ = srv.Close() })

	const n = 100
	start := time.Now()
	closed := make([]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		conn, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		token := ""
		if i%2 == 0 {
			token = "Authorization: Bearer not-a-token\r\n"
		}
		_, err = fmt.Fprintf(conn, "PUT /api/groups HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{", token)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Whatever the server answers, it then closes: read to the end.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
			_, err := io.Copy(io.Discard, conn)
			require.NoError(t, err, "connection %d was still open after a minute", i)
			closed[i] = time.Since(start)
		}()
	}
	wg.Wait()
	for i, d := range closed {
		require.Less(t, d, time.Minute, "connection %d", i)
	}
}
