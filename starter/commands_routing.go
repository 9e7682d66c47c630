package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// Commands for queues, claiming, reassignment groups and the timeline.

func cmdClaim(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("claim", flag.ContinueOnError)
	actor := fs.String("as", "", "the user taking the claim (required)")
	override := fs.Bool("override", false, "take it past your own capacity limit (recorded as such)")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as USER is required: who is claiming")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	d, err := claims.Claim(ctx, pos[0], workflows.ClaimStageInput{Actor: *actor, Override: *override})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s %s: %s (%s)\n", pos[0], d.Stage, d.Assignee, d.Reason)
	return nil
}

func cmdUnassign(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("unassign", flag.ContinueOnError)
	actor := fs.String("as", "", "the user unassigning (required)")
	comment := fs.String("comment", "", "why (required when the policy sets requireReassignComment)")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as USER is required: who is unassigning")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	d, err := claims.Unassign(ctx, pos[0], workflows.UnassignInput{Actor: *actor, Comment: *comment})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s %s: unassigned (%s)\n", pos[0], d.Stage, d.Reason)
	return nil
}

func cmdStartReassignment(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("start-reassignment", flag.ContinueOnError)
	actor := fs.String("as", "", "the user sending it (required)")
	comment := fs.String("comment", "", "why")
	pos, err := parse(fs, args, "CLAIM", "GROUP")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as USER is required: who is sending it")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	r, err := claims.StartReassignment(ctx, pos[0], workflows.StartReassignmentInput{Actor: *actor, Group: pos[1], Comment: *comment})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s: reassignment in progress with group %s (%s, offers stand %s, default assignee %s)\n",
		pos[0], r.Group, r.Method, r.OfferTimeout, r.DefaultAssignee)
	return nil
}

func cmdTimeline(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("timeline", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	events, err := st.Timeline(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		if events == nil {
			events = []store.TimelineEvent{}
		}
		return printJSON(c, events)
	}
	if len(events) == 0 {
		return fmt.Errorf("no timeline for claim %s: unknown claim, or started before the timeline existed", pos[0])
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSTAGE\tEVENT\tWHO\tACTOR\tWHY")
	for _, e := range events {
		why := e.Reason
		if e.Comment != "" && !strings.Contains(why, e.Comment) {
			why += " — " + e.Comment
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.UTC().Format(time.RFC3339), e.Stage, e.Kind, orDash(terminalSafe(e.Subject)),
			orDash(terminalSafe(e.Actor)), terminalSafe(why))
	}
	return tw.Flush()
}

func cmdQueueList(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("queue list", flag.ContinueOnError)
	var f claimclient.ListFilter
	fs.StringVar(&f.Queue, "queue", "", "only this queue (default: every queue)")
	fs.StringVar(&f.Stage, "stage", "", "only this stage (default: every stage)")
	fs.StringVar(&f.Status, "status", "", "only this status: unassigned, assigned, reassigning, open (default: any)")
	since := fs.String("since", "", "only claims started on or after this date, YYYY-MM-DD or RFC 3339 (default: any date)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if f.Stage != "" {
		s, err := policy.ParseStage(f.Stage)
		if err != nil {
			return usagef("--stage: %v", err)
		}
		f.Stage = string(s)
	}
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, *since); err != nil {
				return usagef("--since %q: want YYYY-MM-DD or RFC 3339", *since)
			}
		}
		f.Since = t
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	rows, err := claims.List(ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		if rows == nil {
			rows = []claimclient.Listed{}
		}
		return printJSON(c, rows)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLAIM\tSTAGE\tSTATUS\tQUEUE\tASSIGNEE\tSTARTED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ClaimID, r.Stage, r.Status, orDash(r.Queue), orDash(r.Assignee), r.Started.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func cmdGroupList(ctx context.Context, c *cli, args []string) error {
	if _, err := parse(flag.NewFlagSet("group list", flag.ContinueOnError), args); err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	groups, err := st.Groups(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tMETHOD\tOFFER\tDEFAULT\tMEMBERS")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Name, g.Method, g.OfferTimeout, g.DefaultAssignee, strings.Join(g.Members, ", "))
	}
	return tw.Flush()
}

func cmdGroupApply(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("group apply", flag.ContinueOnError)
	actor := fs.String("as", "", "the user editing the groups; needs ManageReassignmentGroups (required)")
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as USER is required: who is editing the groups")
	}
	doc, err := os.ReadFile(pos[0])
	if err != nil {
		return fmt.Errorf("nothing applied: read groups file: %w", err)
	}
	svc, err := c.service(ctx)
	if err != nil {
		return err
	}
	n, err := svc.ApplyGroups(ctx, *actor, pos[0], doc)
	switch {
	case errors.Is(err, service.ErrUnreadable):
		return fmt.Errorf("nothing applied:\n%w", err) // the file's errors, one per line
	case err != nil:
		return fmt.Errorf("nothing applied: %w", err)
	}
	fmt.Fprintf(c.stdout, "applied %d reassignment groups from %s as %s\n", n, pos[0], *actor)
	return nil
}

// terminalSafe is s for a terminal: a comment or reason recorded before
// control characters were refused (policy.CheckText) is printed quoted, its
// escapes shown as \x1b and never run.
func terminalSafe(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) }) {
		return s
	}
	return strconv.Quote(s)
}
