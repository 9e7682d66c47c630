// Command starter is Baton's client CLI: start claims, assign, complete, show
// state and assignment options, load the directory, migrate the database, and
// serve the HTTP API. It links no Temporal server.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `usage: starter [--config FILE] COMMAND [ARGS]

Claims:
  start CLAIM [--owner USER] [--data KEY=VALUE ...]   start a claim
  assign CLAIM USER --as ACTOR [--comment TEXT]       make USER the current stage's assignee
  complete CLAIM --as ACTOR [--outcome O] [--note T]  complete the current stage (outcome at review:
                                                      approval, goodwill, repudiation, no_claim)
  show CLAIM [--json]                                 the claim's stage, assignee and decisions
  options CLAIM STAGE                                 assignment options of a stage, as the HTTP API
  inbox USER [--all]                                  a user's in-app notifications
  timeline CLAIM [--json]                             every assignment, claim, offer, expiry and escalation

Queues and reassignment:
  queue list [--queue Q] [--stage S] [--status S] [--since DATE]
                                                      open claims, unassigned first
  claim CLAIM --as USER                               take queued (or offered) work yourself
  reassign CLAIM USER --as ACTOR [--comment TEXT]     same as assign, for an assigned stage
  unassign CLAIM --as ACTOR [--comment TEXT]          return the stage to its queue
  start-reassignment CLAIM GROUP --as ACTOR [--comment TEXT]
                                                      send the stage to a reassignment group
  group apply FILE --as USER                          upsert reassignment groups (needs ManageReassignmentGroups)
  group list                                          the reassignment groups

Policies:
  policy apply FILE --as USER                         validate, store as the next version, print what changed
  policy list | policy show [--version N]             stored versions
  policy test FILE --claims FILE [--directory FILE]   decide sample claims without touching live state
  explain CLAIM [STAGE]                               candidates, who was removed and why, rules, method, pick
  migrate-policy CLAIM VERSION --as ADMIN             move a claim to another stored policy version
  host record SUBJECT USER [--at TIME]                record who hosted a subject, for recent_host

Operations:
  directory load FILE                                 upsert users, permissions and teams (all or nothing)
  migrate                                             apply database migrations
  serve                                               serve the HTTP API on BATON_HTTP_ADDRESS
  token create USER [--label L]                       issue an HTTP API token for USER (printed once: keep it)
  token list USER                                     USER's API tokens (ids, labels, revoked or not)
  token revoke ID | --user USER                       revoke one token, or every token of USER
  replay [--query Q] [--since DATE] [--limit N]       replay open claims' histories against this build's
                                                      workflow code; run before deploying a new worker
  replay FILE...                                      replay exported histories (no server); exit 1 if any fails

Configuration comes from --config (or BATON_CONFIG) and the environment; see the README.
`

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
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "starter: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	if err := cmd(ctx, cli, args[1:]); err != nil {
		var ue usageError
		if asUsage(err, &ue) {
			fmt.Fprintf(stderr, "starter %s: %s\n", args[0], ue.msg)
			return exitUsage
		}
		fmt.Fprintf(stderr, "starter %s: %s\n", args[0], err)
		return exitError
	}
	return exitOK
}
