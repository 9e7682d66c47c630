// Command worker runs Baton's Temporal worker: it migrates the database, checks
// the namespace, and runs claim workflows and their activities until SIGINT or
// SIGTERM, then stops cleanly. It links no Temporal server.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/config"
)

func main() {
	configFile := flag.String("config", os.Getenv("BATON_CONFIG"), "config file (YAML); environment variables override it")
	flag.Parse()
	cfg, err := config.Load(*configFile, os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	app := fx.New(
		fx.Supply(cfg),
		batonfx.Module,
		fx.WithLogger(batonfx.FxLogger),
		fx.StartTimeout(time.Minute),
		fx.StopTimeout(cfg.ShutdownTimeout+10*time.Second),
	)
	if err := run(app); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(app *fx.App) error {
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return err
	}
	sig := <-app.Wait() // SIGINT or SIGTERM
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return err
	}
	os.Exit(sig.ExitCode)
	return nil
}
