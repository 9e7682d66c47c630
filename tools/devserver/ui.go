package devserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

// startUI runs the Web UI in the background and waits until it answers, so
// UIURL can be opened as soon as Start returns.
func (s *Server) startUI(ctx context.Context, cfg Config) error {
	ui := uiserver.NewServer(server_options.WithConfigProvider(&uiconfig.Config{
		TemporalGRPCAddress: s.hostPort,
		Host:                cfg.Host,
		Port:                cfg.UIPort,
		EnableUI:            true,
		DefaultNamespace:    cfg.Namespace,
		// The UI is served over plain HTTP on loopback, where browsers
		// would drop a Secure CSRF cookie and every UI action would fail.
		CORS: uiconfig.CORS{CookieInsecure: true},
		// Per-request access logs would drown out Baton's own output.
		HideLogs: true,
		// Offline-friendly: do not fetch news from temporal.io.
		DisableNewsFetch: true,
	}))
	s.ui = ui
	s.uiDone = make(chan struct{})
	go func() {
		defer close(s.uiDone)
		// Returns once Stop closes the server. Listen errors end in
		// log.Fatal inside ui-server, hence the port check in Start.
		_ = ui.Start()
	}()
	s.uiURL = "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.UIPort))

	healthURL := s.uiURL + "/healthz"
	httpClient := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return fmt.Errorf("devserver: building UI health request: %w", err)
		}
		resp, err := httpClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: Temporal UI at %s did not become ready: %w (last error: %v)", s.uiURL, ctx.Err(), err)
		case <-time.After(pollInterval):
		}
	}
}
