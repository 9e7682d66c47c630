package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

// flagSetOf runs c with --help, as run does, to read the flags it defines.
func flagSetOf(t *testing.T, c command) *flag.FlagSet {
	t.Helper()
	offline := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	var help helpRequested
	require.True(t, errors.As(c.run(context.Background(), offline, []string{"--help"}), &help), "%s --help", c.name)
	return help.fs
}

// Every command and subcommand in the table answers --help, -h and help NAME
// with its own usage and every flag it defines, contacting nothing.
func TestHelpEveryCommand(t *testing.T) {
	t.Parallel()
	hinted := regexp.MustCompile(`--([a-z-]+)`)
	for _, c := range allCommands() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fs := flagSetOf(t, c)
			var defined []string
			fs.VisitAll(func(f *flag.Flag) { defined = append(defined, f.Name) })

			words := strings.Fields(c.name)
			code, out, errs := runOffline(append(words, "--help")...)
			require.Equal(t, 0, code, errs)
			require.Empty(t, errs)
			want := "usage: starter " + c.name
			if len(defined) > 0 {
				want += " [flags]"
			}
			if c.args != "" {
				want += " " + c.args
			}
			lines := strings.Split(out, "\n")
			require.Equal(t, want, lines[0])
			require.Equal(t, strings.ReplaceAll(c.summary, "\n", " "), lines[2])
			for _, name := range defined {
				require.Regexp(t, `(?m)^  --`+regexp.QuoteMeta(name)+`( |$)`, out, "flag --%s", name)
			}
			if len(defined) == 0 {
				require.NotContains(t, out, "flags:")
			}

			for _, args := range [][]string{append(words, "-h"), append([]string{"help"}, words...)} {
				code, same, errs := runOffline(args...)
				require.Equal(t, 0, code, errs)
				require.Equal(t, out, same, args)
			}

			// The overview's flag hints name only flags the command defines.
			for _, m := range hinted.FindAllStringSubmatch(c.flags, -1) {
				require.Contains(t, defined, m[1], "the table's flags for %s", c.name)
			}
		})
	}
}

func TestHelpQueueList(t *testing.T) {
	t.Parallel()
	code, out, errs := runOffline("queue", "list", "--help")
	require.Equal(t, 0, code, errs)
	require.Equal(t, `usage: starter queue list [flags]

open claims, unassigned first

flags:
  --json           print JSON
  --queue string   only this queue (default: every queue)
  --since string   only claims started on or after this date, YYYY-MM-DD or RFC 3339 (default: any date)
  --stage string   only this stage (default: every stage)
  --status string  only this status: unassigned, assigned, reassigning, open (default: any)
`, out)

	// Defaults that are not zero are shown as flag.PrintDefaults shows them.
	_, out, _ = runOffline("options", "--help")
	require.Contains(t, out, "  --limit int ")
	require.Contains(t, out, "(at most 1000) (default 100)\n")
	_, out, _ = runOffline("replay", "--help")
	require.Contains(t, out, `(default "`+defaultReplayQuery+`")`)
}

// A parent given --help lists its subcommands; given nothing, it is a usage error.
func TestHelpParents(t *testing.T) {
	t.Parallel()
	parents := 0
	for _, name := range topNames() {
		subs := subcommands(name)
		if len(subs) == 0 {
			continue
		}
		parents++
		code, out, errs := runOffline(name, "--help")
		require.Equal(t, 0, code, errs)
		require.True(t, strings.HasPrefix(out, "usage: starter "+name+" SUBCOMMAND [ARGS]\n\n"), out)
		for _, s := range subs {
			require.Regexp(t, `(?m)^  `+regexp.QuoteMeta(s.name)+`( |$)`, out)
		}
		code, same, _ := runOffline("help", name)
		require.Equal(t, 0, code)
		require.Equal(t, out, same)

		code, stdout, errs := runOffline(name)
		require.Equal(t, 2, code)
		require.Empty(t, stdout)
		require.Equal(t, "starter "+name+": want a subcommand\n\n"+out, errs)
	}
	require.Equal(t, 7, parents, "queue, group, policy, host, directory, user, token")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	full := usage()
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"-h"}, {"help", "help"}} {
		code, out, errs := runOffline(args...)
		require.Equal(t, 0, code, args)
		require.Empty(t, errs)
		require.Equal(t, full, out, args)
	}
	require.True(t, strings.HasPrefix(full, "usage: starter [--config FILE] COMMAND [ARGS]\n\nClaims:\n"))
	for _, c := range allCommands() {
		require.Regexp(t, `(?m)^  `+regexp.QuoteMeta(c.name)+`( |$)`, full)
	}
	require.Contains(t, full, "\n  queue list [--queue Q] [--stage S] [--status S] [--since DATE]\n"+
		strings.Repeat(" ", 2+summaryColumn)+"open claims, unassigned first\n")
	require.Contains(t, full, "\n  show CLAIM [--json]                                 the claim's stage, assignee and decisions\n")
}

// Unknown commands, subcommands and flags are usage errors naming the nearest
// match, when there is one close enough.
func TestUnknownNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args  []string
		first string // stderr's first line
	}{
		{[]string{"shwo"}, `starter: unknown command "shwo"; did you mean "show"?`},
		{[]string{"help", "shwo"}, `starter: unknown command "shwo"; did you mean "show"?`},
		{[]string{"migrate-polcy", "c1", "3"}, `starter: unknown command "migrate-polcy"; did you mean "migrate-policy"?`},
		{[]string{"hlep"}, `starter: unknown command "hlep"; did you mean "help"?`},
		{[]string{"frobnicate"}, `starter: unknown command "frobnicate"`},
		{[]string{"queue", "lsit"}, `starter queue: unknown subcommand "lsit"; did you mean "list"?`},
		{[]string{"help", "policy", "shwo"}, `starter policy: unknown subcommand "shwo"; did you mean "show"?`},
		{[]string{"token", "revok", "3"}, `starter token: unknown subcommand "revok"; did you mean "revoke"?`},
		{[]string{"group", "frobnicate"}, `starter group: unknown subcommand "frobnicate"`},
		{[]string{"queue", "list", "--stage-name", "x"}, `starter queue list: flag provided but not defined: -stage-name; did you mean --stage?`},
		{[]string{"show", "c1", "--jsno"}, `starter show: flag provided but not defined: -jsno; did you mean --json?`},
		{[]string{"assign", "c1", "ben", "--as", "root", "--bogus"}, `starter assign: flag provided but not defined: -bogus`},
		{[]string{"replay", "--limt", "3"}, `starter replay: flag provided but not defined: -limt; did you mean --limit? (` + replayUsage + `)`},
	} {
		code, out, errs := runOffline(tc.args...)
		require.Equal(t, 2, code, tc.args)
		require.Empty(t, out, tc.args)
		first, _, _ := strings.Cut(errs, "\n")
		require.Equal(t, tc.first, first, tc.args)
	}

	// A flag error is one line; a name error is followed by what there is.
	_, _, errs := runOffline("assign", "c1", "ben", "--as", "root", "--bogus")
	require.Equal(t, "starter assign: flag provided but not defined: -bogus\n", errs)
	_, _, errs = runOffline("shwo")
	require.True(t, strings.HasSuffix(errs, "\n\n"+usage()), errs)
	_, _, errs = runOffline("queue", "lsit")
	require.Contains(t, errs, "\n\nusage: starter queue SUBCOMMAND [ARGS]\n")
}

func TestNearest(t *testing.T) {
	t.Parallel()
	names := []string{"show", "start", "start-reassignment", "serve", "migrate", "migrate-policy"}
	for _, tc := range []struct{ got, want string }{
		{"shwo", "show"},
		{"strat", "start"},
		{"migrat", "migrate"},             // a prefix of two: the closer
		{"migrate-pol", "migrate-policy"}, // a prefix, beyond two edits
		{"showall", "show"},               // a name is its prefix
		{"sh", "show"},
		{"deploy", ""},
		{"x", ""}, // two edits from nothing is not close
		{"", ""},
	} {
		require.Equal(t, tc.want, nearest(tc.got, names), tc.got)
	}
	require.Equal(t, "", nearest("bogus", []string{"as", "comment"}))
	require.Equal(t, 0, policy.EditDistance("stage", "stage"))
	require.Equal(t, 2, policy.EditDistance("shwo", "show"))
	require.Equal(t, 5, policy.EditDistance("stage-name", "stage"))
}
