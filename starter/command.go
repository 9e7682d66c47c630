package main

import (
	"context"
	"errors"
	"strings"
)

// command is one command or subcommand of the CLI. The overview (starter help),
// each command's --help and the dispatch are all read from the table below, so
// the help cannot drift from what runs; the flags themselves come from the
// command's own flag.FlagSet.
type command struct {
	name    string // with its parent, if any: "queue list"
	args    string // positional arguments: "CLAIM USER"
	flags   string // the flags worth showing in the overview: "--as ACTOR [--comment TEXT]"
	summary string // what it does, in a line; a "\n" continues it in the overview
	run     func(context.Context, *cli, []string) error
}

// section is a heading of the overview and its commands.
type section struct {
	title    string
	commands []command
}

var sections = []section{
	{"Claims", []command{
		{"start", "CLAIM", "[--owner USER] [--data KEY=VALUE ...]", "start a claim", cmdStart},
		{"assign", "CLAIM USER", "--as ACTOR [--comment TEXT] [--override]", "make USER the current stage's assignee", cmdAssign},
		{"complete", "CLAIM", "--as ACTOR [--outcome O] [--note T]",
			"complete the current stage (outcome at review:\napproval, goodwill, repudiation, no_claim)", cmdComplete},
		{"show", "CLAIM", "[--json]", "the claim's stage, assignee and decisions", cmdShow},
		{"options", "CLAIM STAGE", "[--as USER]", "assignment options of a stage, as the HTTP API (--as: for USER)", cmdOptions},
		{"inbox", "USER", "[--all]", "a user's in-app notifications", cmdInbox},
		{"timeline", "CLAIM", "[--json]", "every assignment, claim, offer, expiry and escalation", cmdTimeline},
	}},
	{"Queues and reassignment", []command{
		{"queue list", "", "[--queue Q] [--stage S] [--status S] [--since DATE]", "open claims, unassigned first", cmdQueueList},
		{"claim", "CLAIM", "--as USER", "take queued (or offered) work yourself", cmdClaim},
		{"reassign", "CLAIM USER", "--as ACTOR [--comment TEXT]", "same as assign, for an assigned stage", cmdAssign},
		{"unassign", "CLAIM", "--as ACTOR [--comment TEXT]", "return the stage to its queue", cmdUnassign},
		{"start-reassignment", "CLAIM GROUP", "--as ACTOR [--comment TEXT]", "send the stage to a reassignment group", cmdStartReassignment},
		{"group apply", "FILE", "--as USER", "upsert reassignment groups (needs ManageReassignmentGroups)", cmdGroupApply},
		{"group list", "", "", "the reassignment groups", cmdGroupList},
	}},
	{"Policies", []command{
		{"policy apply", "FILE", "--as USER", "validate, store as the next version, print what changed", cmdPolicyApply},
		{"policy list", "", "[--name N]", "a policy's stored versions", cmdPolicyList},
		{"policy show", "", "[--version N]", "a stored version's text (default: the latest)", cmdPolicyShow},
		{"policy test", "FILE", "--claims FILE [--directory FILE]", "decide sample claims without touching live state", cmdPolicyTest},
		{"explain", "CLAIM [STAGE]", "", "candidates, who was removed and why, rules, method, pick", cmdExplain},
		{"migrate-policy", "CLAIM VERSION", "--as ADMIN", "move a claim to another stored policy version", cmdMigratePolicy},
		{"host record", "SUBJECT USER", "[--at TIME]", "record who hosted a subject, for recent_host", cmdHostRecord},
	}},
	{"Operations", []command{
		{"directory load", "FILE", "", "upsert users, permissions and teams (all or nothing)", cmdDirectoryLoad},
		{"user show", "USER", "[--json]", "a user's status, limits and open stages", cmdUserShow},
		{"user status", "USER STATUS", "--as ACTOR", "set USER available, away or offline (themselves, or an admin)", cmdUserStatus},
		{"user away", "USER", "--until TIME [--from TIME] [--delegate D] --as ACTOR", "record an absence: USER is away, new work to D", cmdUserAway},
		{"user deactivate", "USER", "--as ADMIN", "deactivate USER and re-route every stage they hold, once each", cmdUserDeactivate},
		{"user activate", "USER", "--as ADMIN", "reactivate USER: new work again, not the old back", cmdUserActivate},
		{"migrate", "", "", "apply database migrations", cmdMigrate},
		{"serve", "", "", "serve the HTTP API on BATON_HTTP_ADDRESS", cmdServe},
		{"token create", "USER", "[--label L]", "issue an HTTP API token for USER (printed once: keep it)", cmdTokenCreate},
		{"token list", "USER", "", "USER's API tokens (ids, labels, revoked or not)", cmdTokenList},
		{"token revoke", "[ID]", "[--user USER]", "revoke token ID, or every token of --user USER", cmdTokenRevoke},
		{"replay", "[FILE...]", "[--query Q] [--since DATE] [--limit N]",
			"replay open claims' histories (or exported FILEs: no server) against\n" +
				"this build's workflow code; run before deploying a new worker", cmdReplay},
	}},
}

// allCommands is the table in the overview's order.
func allCommands() []command {
	var all []command
	for _, s := range sections {
		all = append(all, s.commands...)
	}
	return all
}

// find returns the command called name ("show", "queue list").
func find(name string) (command, bool) {
	for _, c := range allCommands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// subcommands returns the commands under parent: "queue list" for "queue".
func subcommands(parent string) []command {
	var subs []command
	for _, c := range allCommands() {
		if strings.HasPrefix(c.name, parent+" ") {
			subs = append(subs, c)
		}
	}
	return subs
}

// topNames are the words that may follow starter: commands and parents of
// subcommands, once each.
func topNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, c := range allCommands() {
		top, _, _ := strings.Cut(c.name, " ")
		if !seen[top] {
			seen[top] = true
			names = append(names, top)
		}
	}
	return names
}

// helpShown is the answer to --help: run prints the text to stdout and exits 0.
type helpShown struct{ text string }

func (h helpShown) Error() string { return h.text }

// dispatch runs the command that args name, a known command or parent, or
// answers its --help.
func dispatch(ctx context.Context, c *cli, args []string) error {
	cmd, rest, err := resolve(args)
	if err != nil {
		return err
	}
	err = cmd.run(ctx, c, rest)
	var help helpRequested
	if errors.As(err, &help) {
		return helpShown{commandHelp(cmd, help.fs)}
	}
	return err
}

// resolve finds the command args name and the arguments left for it: args[1:]
// after a command, args[2:] after a parent and its subcommand.
func resolve(args []string) (command, []string, error) {
	if cmd, ok := find(args[0]); ok {
		return cmd, args[1:], nil
	}
	parent, subs := args[0], subcommands(args[0])
	listing := groupHelp(parent, subs)
	switch {
	case len(args) == 1:
		return command{}, nil, usagef("want a subcommand\n\n%s", strings.TrimSuffix(listing, "\n"))
	case isHelpFlag(args[1]):
		return command{}, nil, helpShown{listing}
	}
	if cmd, ok := find(parent + " " + args[1]); ok {
		return cmd, args[2:], nil
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = strings.TrimPrefix(s.name, parent+" ")
	}
	return command{}, nil, usagef("unknown subcommand %q%s\n\n%s", args[1], didYouMean(args[1], names), strings.TrimSuffix(listing, "\n"))
}

// isHelpFlag reports whether arg asks for help, as the flag package reads it.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}
