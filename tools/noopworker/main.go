// Command noopworker is the memory figure's baseline: a Temporal worker that
// runs only the minimal claim (package bench/baseline), built the way Baton's
// worker is (go build, no Temporal server linked in), with the same sticky
// cache size and the same Prometheus Go-runtime metrics, so the two processes
// differ only by what Baton does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/tools/bench/baseline"
)

func main() {
	addr := flag.String("address", "127.0.0.1:7233", "Temporal frontend host:port")
	ns := flag.String("namespace", "default", "Temporal namespace")
	queue := flag.String("queue", "bench-noop", "task queue")
	cache := flag.Int("cache", 10000, "sticky workflow cache size (as BATON_WORKFLOW_CACHE_SIZE)")
	metrics := flag.String("metrics", "", "listen address of /metrics (Go runtime and process collectors); empty: none")
	flag.Parse()
	if *cache <= 0 {
		fmt.Fprintln(os.Stderr, "noopworker: --cache must be positive")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *ns, *queue, *cache, *metrics); err != nil {
		fmt.Fprintln(os.Stderr, "noopworker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, ns, queue string, cache int, metrics string) error {
	if metrics != "" {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		ln, err := net.Listen("tcp", metrics)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Fprintln(os.Stderr, "noopworker: metrics:", err)
			}
		}()
		defer srv.Close()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: ns, Logger: sdklog.NewStructuredLogger(log)})
	if err != nil {
		return err
	}
	defer c.Close()
	worker.SetStickyWorkflowCacheSize(cache)
	w := worker.New(c, queue, worker.Options{})
	baseline.Register(w)
	if err := w.Start(); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop()
	return nil
}
