package batonfx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"go.temporal.io/sdk/client"
	"go.uber.org/fx"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// ServeAPI serves Baton's HTTP API from the worker's own program as well, at
// http_address (BATON_HTTP_ADDRESS), answering the assignment-options
// endpoints with the program's product module on the caller's behalf: what
// starter serve does for the built-in modules, for a program that runs its
// own. Add it to fx.New next to Module and WithProductModule.
var ServeAPI = fx.Invoke(ServeHTTPAPI)

// ServeHTTPAPI starts the API with the worker's Temporal client, store and
// product module, and stops it with the program (ServeAPI).
func ServeHTTPAPI(lc fx.Lifecycle, c client.Client, st *store.Store, m policy.ProductModule, cfg config.Config, log *slog.Logger) {
	claims := claimclient.New(c, cfg.TaskQueue)
	limits := httpapi.Limits{Rate: float64(cfg.APIRate), Burst: cfg.APIBurst, InFlight: cfg.APIInFlight}
	srv := httpapi.NewHTTPServer(httpapi.New(claims, st, log, httpapi.WithProductModule(m), httpapi.WithLimits(limits)).Handler())
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.HTTPAddress)
			if err != nil {
				return fmt.Errorf("listen on %s (BATON_HTTP_ADDRESS): %w", cfg.HTTPAddress, err)
			}
			log.Info("serving the Baton API", "address", ln.Addr().String())
			go func() {
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					log.Error("the Baton API stopped", "error", err)
				}
			}()
			return nil
		},
		OnStop: srv.Shutdown,
	})
}
