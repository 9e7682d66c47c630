// Command starter is Baton's client CLI: start claims, assign, complete, show
// state and assignment options, load the directory, migrate the database, and
// serve the HTTP API. It links no Temporal server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/batonhq/baton/policy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// exit codes
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the whole CLI, taking its environment as arguments so tests drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cli := &cli{stdout: stdout, stderr: stderr, getenv: getenv, configFile: getenv("BATON_CONFIG")}
	defer cli.close()
	if len(args) >= 2 && (args[0] == "--config" || args[0] == "-config") {
		cli.configFile, args = args[1], args[2:]
	}
	if len(args) > 0 && args[0] == "help" {
		// starter help queue list is starter queue list --help.
		args = append(slices.Clone(args[1:]), "--help")
	}
	if len(args) == 0 || isHelpFlag(args[0]) || args[0] == "help" {
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	if _, ok := find(args[0]); !ok && len(subcommands(args[0])) == 0 {
		fmt.Fprintf(stderr, "starter: unknown command %q%s\n\n%s", args[0], didYouMean(args[0], append(topNames(), "help")), usage())
		return exitUsage
	}
	err := dispatch(ctx, cli, args)
	var help helpShown
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.text)
		return exitOK
	case asUsage(err, &ue):
		fmt.Fprintf(stderr, "starter %s: %s\n", commandName(args), ue.msg)
		return exitUsage
	}
	// The one place an error is shown: in its own words, without the kind
	// its wrap appended (": not found"); the kind is policy.KindOf(err).
	fmt.Fprintf(stderr, "starter %s: %s\n", commandName(args), policy.Message(err))
	return exitError
}

// commandName is the command args run, subcommand and all ("user
// deactivate"), for the prefix of its errors; the parent alone when no
// subcommand was found.
func commandName(args []string) string {
	if cmd, _, err := resolve(args); err == nil {
		return cmd.name
	}
	return args[0]
}
