// Command productmodule is a Baton worker with a custom product module: what a
// deployment builds when the built-in methods do not route its claims. It is
// configured like Baton's own worker (environment variables, or a file named by
// BATON_CONFIG); run stages with claimAssignmentMethod: product_module.
package main

import (
	"fmt"
	"os"

	"go.uber.org/fx"

	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/config"
)

func main() {
	cfg, err := config.Load(os.Getenv("BATON_CONFIG"), os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "productmodule:", err)
		os.Exit(2)
	}
	fx.New(
		fx.Supply(cfg),
		batonfx.Module,
		batonfx.WithProductModuleFrom(func(d batonfx.Directory) batonfx.ProductModule { return ByLine{Users: d} }),
		batonfx.ServeAPI, // the HTTP API too, answering assignment options with ByLine
		fx.WithLogger(batonfx.FxLogger),
	).Run()
}
