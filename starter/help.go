package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/batonhq/baton/policy"
)

// The help texts, all generated from the command table (command.go) and the
// commands' flag sets, and the "did you mean" suggestions for typos.

// summaryColumn is where the overview's summaries start; a longer synopsis puts
// its summary on the next line.
const summaryColumn = 52

// usage is the overview: every command, by section.
func usage() string {
	var b strings.Builder
	b.WriteString("usage: starter [--config FILE] COMMAND [ARGS]\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "\n%s:\n", s.title)
		for _, c := range s.commands {
			writeSynopsis(&b, c)
		}
	}
	b.WriteString("\nConfiguration comes from --config (or BATON_CONFIG) and the environment; see the README.\n")
	b.WriteString("starter help COMMAND, or starter COMMAND --help, describes a command and its flags.\n")
	return b.String()
}

// writeSynopsis writes c's line of the overview: name, arguments, the flags worth
// knowing, and the summary in a column.
func writeSynopsis(b *strings.Builder, c command) {
	left := c.name
	for _, s := range []string{c.args, c.flags} {
		if s != "" {
			left += " " + s
		}
	}
	if len(left) > summaryColumn-2 {
		fmt.Fprintf(b, "  %s\n", left)
		left = ""
	}
	for _, line := range strings.Split(c.summary, "\n") {
		fmt.Fprintf(b, "  %-*s%s\n", summaryColumn, left, line)
		left = ""
	}
}

// commandHelp is c's --help: the usage line, the summary and every flag of fs
// with its default, the way flag.PrintDefaults writes them but with "--".
func commandHelp(c command, fs *flag.FlagSet) string {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	line := "usage: starter " + c.name
	if len(flags) > 0 {
		line += " [flags]"
	}
	if c.args != "" {
		line += " " + c.args
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s\n", line, strings.ReplaceAll(c.summary, "\n", " "))
	if len(flags) == 0 {
		return b.String()
	}
	b.WriteString("\nflags:\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, f := range flags {
		typ, text := flag.UnquoteUsage(f)
		fmt.Fprintf(tw, "  %s\t%s%s\n", strings.TrimSpace("--"+f.Name+" "+typ), text, defaultOf(f))
	}
	tw.Flush()
	return b.String()
}

// defaultOf is " (default X)" for a flag with a non-zero default, quoted for a
// string as flag.PrintDefaults does, and "" otherwise.
func defaultOf(f *flag.Flag) string {
	switch f.DefValue {
	case "", "0", "false":
		return ""
	}
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isString := g.Get().(string); isString {
			return fmt.Sprintf(" (default %q)", f.DefValue)
		}
	}
	return " (default " + f.DefValue + ")"
}

// groupHelp lists the subcommands of parent.
func groupHelp(parent string, subs []command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: starter %s SUBCOMMAND [ARGS]\n\n", parent)
	for _, c := range subs {
		writeSynopsis(&b, c)
	}
	fmt.Fprintf(&b, "\nstarter %s SUBCOMMAND --help describes a subcommand and its flags.\n", parent)
	return b.String()
}

// didYouMean is `; did you mean "x"?` for the nearest candidate, or "".
func didYouMean(got string, candidates []string) string {
	if best := nearest(got, candidates); best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	return ""
}

// nearest returns the candidate closest to got when it is close enough to be
// the one meant: within two edits (short of rewriting got entirely), or one a
// prefix of the other ("stage-name" for "stage"). Ties go to the earlier.
func nearest(got string, candidates []string) string {
	if got == "" {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		d := policy.EditDistance(got, c)
		near := d <= 2 && d < len(got) || strings.HasPrefix(c, got) || strings.HasPrefix(got, c)
		if near && (best == "" || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}
