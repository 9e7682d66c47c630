package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// Commands for people: their status and workload.

func cmdUserShow(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("user show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args, "USER")
	if err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	w, err := st.UserWorkload(ctx, pos[0])
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown user %q", pos[0])
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c, w)
	}
	fmt.Fprintf(c.stdout, "user      %s (%s)\nactive    %t\nstatus    %s\nlimits    %s\nopen      %d", w.ID, w.Name,
		w.Active, w.Status, w.Capacity, w.Open)
	for _, s := range policy.AssignableStages {
		if n := w.OpenByStage[s]; n > 0 || w.Capacity.PerStage[s] > 0 {
			fmt.Fprintf(c.stdout, "  %s %d", s, n)
			if l := w.Capacity.PerStage[s]; l > 0 {
				fmt.Fprintf(c.stdout, "/%d", l)
			}
		}
	}
	if w.Capacity.Total > 0 {
		fmt.Fprintf(c.stdout, "  (of %d)", w.Capacity.Total)
	}
	fmt.Fprintln(c.stdout)
	away, err := st.Absences(ctx, pos[0])
	if err != nil {
		return err
	}
	for _, a := range away {
		fmt.Fprintf(c.stdout, "away      %s until %s", a.From.Format(time.RFC3339), a.Until.Format(time.RFC3339))
		if a.Delegate != "" {
			fmt.Fprintf(c.stdout, ", delegate %s", a.Delegate)
		}
		fmt.Fprintln(c.stdout)
	}
	return nil
}

func cmdUserStatus(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("user status", flag.ContinueOnError)
	actor := fs.String("as", "", "who is setting it: USER themselves, or an admin (required)")
	pos, err := parse(fs, args, "USER", "STATUS")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as ACTOR is required: who is setting the status")
	}
	status, err := policy.ParseAvailability(pos[1])
	if err != nil {
		return usagef("%v", err)
	}
	svc, err := c.service(ctx)
	if err != nil {
		return err
	}
	res, err := svc.SetStatus(ctx, *actor, pos[0], status)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown user %q", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s is %s (was %s)\n", pos[0], status, res.Previous)
	if res.Nudged > 0 {
		fmt.Fprintf(c.stdout, "%d waiting stages asked to decide again\n", res.Nudged)
	}
	return nil
}

func cmdUserDeactivate(ctx context.Context, c *cli, args []string) error {
	return setActive(ctx, c, args, false)
}

func cmdUserActivate(ctx context.Context, c *cli, args []string) error {
	return setActive(ctx, c, args, true)
}

// setActive deactivates or reactivates a user; a deactivation re-routes every
// stage they still hold (run it again to finish one that was cut short).
func setActive(ctx context.Context, c *cli, args []string, active bool) error {
	name := "user activate"
	if !active {
		name = "user deactivate"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	actor := fs.String("as", "", "the admin doing it (required)")
	pos, err := parse(fs, args, "USER")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as ADMIN is required: who is doing it")
	}
	svc, err := c.service(ctx)
	if err != nil {
		return err
	}
	res, err := svc.SetActive(ctx, *actor, pos[0], active)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown user %q", pos[0])
	}
	if err != nil {
		return err
	}
	switch {
	case active && res.Already:
		fmt.Fprintf(c.stdout, "%s was already active; nothing changed\n", pos[0])
	case active:
		fmt.Fprintf(c.stdout, "%s is active\n", pos[0])
	case res.Already:
		fmt.Fprintf(c.stdout, "%s was already deactivated; %d open stages still theirs sent to be decided again\n", pos[0], res.Redistributed)
	default:
		fmt.Fprintf(c.stdout, "%s is deactivated; %d open stages sent to be decided again\n", pos[0], res.Redistributed)
	}
	return nil
}

func cmdUserAway(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("user away", flag.ContinueOnError)
	actor := fs.String("as", "", "who is recording it: USER themselves, or an admin (required)")
	from := fs.String("from", "", "when it starts, RFC 3339 (default: now)")
	until := fs.String("until", "", "when it ends, RFC 3339 (required)")
	delegate := fs.String("delegate", "", "who takes USER's new work meanwhile (default: nobody)")
	pos, err := parse(fs, args, "USER")
	if err != nil {
		return err
	}
	if *actor == "" || *until == "" {
		return usagef("--as ACTOR and --until TIME are required")
	}
	a := store.Absence{From: time.Now().UTC(), Delegate: *delegate}
	if *from != "" {
		if a.From, err = time.Parse(time.RFC3339, *from); err != nil {
			return usagef("--from %q: want RFC 3339, e.g. 2026-12-24T00:00:00Z", *from)
		}
	}
	if a.Until, err = time.Parse(time.RFC3339, *until); err != nil {
		return usagef("--until %q: want RFC 3339, e.g. 2027-01-02T00:00:00Z", *until)
	}
	svc, err := c.service(ctx)
	if err != nil {
		return err
	}
	moved, err := svc.AddAbsence(ctx, *actor, pos[0], a)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown user %q", pos[0])
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s is away from %s until %s", pos[0], a.From.Format(time.RFC3339), a.Until.Format(time.RFC3339))
	if a.Delegate != "" {
		fmt.Fprintf(c.stdout, "; new work goes to %s", a.Delegate)
	}
	fmt.Fprintln(c.stdout)
	if moved > 0 {
		fmt.Fprintf(c.stdout, "%d open stages asked to move where their policy says onAbsence: redistribute\n", moved)
	}
	return nil
}
