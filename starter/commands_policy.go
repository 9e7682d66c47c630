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

	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// Commands for stored policies, what-if runs, explanations and hosts.

// cmdPolicyApply validates a policy file against the directory, stores it as the
// next version when it changed, and prints what changed.
func cmdPolicyApply(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("policy apply", flag.ContinueOnError)
	actor := fs.String("as", "", "who is applying it, for the record (required)")
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as USER is required: who is applying the policy")
	}
	body, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	svc, err := c.offline(ctx)
	if err != nil {
		return err
	}
	res, err := svc.ApplyPolicy(ctx, pos[0], body, *actor)
	if err != nil {
		return fmt.Errorf("nothing applied:\n%w", err)
	}
	if !res.Changed {
		fmt.Fprintf(c.stdout, "unchanged: policy %s is at version %d\n", res.Name, res.Version)
		return nil
	}
	fmt.Fprintf(c.stdout, "stored policy %s version %d; new claims use it, running claims keep theirs\n", res.Name, res.Version)
	if res.First {
		fmt.Fprintln(c.stdout, "(first version)")
		return nil
	}
	if len(res.Changes) == 0 {
		fmt.Fprintln(c.stdout, "(only comments or formatting changed)")
	}
	for _, line := range res.Changes {
		fmt.Fprintln(c.stdout, line)
	}
	return nil
}

func cmdPolicyList(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("policy list", flag.ContinueOnError)
	name := fs.String("name", "default", "policy name")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	versions, err := st.PolicyVersions(ctx, *name)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return fmt.Errorf("no stored versions of policy %s", *name)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tAPPLIED\tBY\tCHECKSUM")
	for _, v := range versions {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, v.CreatedAt.UTC().Format(time.RFC3339), v.CreatedBy, v.Checksum[:12])
	}
	return tw.Flush()
}

func cmdPolicyShow(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("policy show", flag.ContinueOnError)
	name := fs.String("name", "default", "policy name")
	version := fs.Int("version", 0, "version (default: the latest)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	var sp store.StoredPolicy
	if *version > 0 {
		sp, err = st.PolicyVersion(ctx, *name, *version)
	} else {
		sp, err = st.PolicyLatest(ctx, *name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "# policy %s version %d, applied %s by %s\n%s", sp.Name, sp.Version,
		sp.CreatedAt.UTC().Format(time.RFC3339), sp.CreatedBy, sp.Body)
	return nil
}

// cmdPolicyTest decides sample claims under a policy file without touching live
// state: the directory is read (from --directory, or the database), turn counts start
// empty and live in memory, and nothing is written.
func cmdPolicyTest(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("policy test", flag.ContinueOnError)
	claimsFile := fs.String("claims", "", "sample claims file (required)")
	dirFile := fs.String("directory", "", "directory file to decide against (default: the live directory, read only)")
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return err
	}
	if *claimsFile == "" {
		return usagef("--claims FILE is required")
	}
	p, err := yamlfile.LoadPolicy(pos[0])
	if err != nil {
		return err
	}
	samples, err := yamlfile.LoadSampleClaims(*claimsFile)
	if err != nil {
		return err
	}
	var dir *policy.Directory
	if *dirFile != "" {
		if dir, err = yamlfile.LoadDirectory(*dirFile); err != nil {
			return err
		}
	}
	svc := service.New(nil, nil, nil, c.logger()) // a file's directory needs no database
	if dir == nil {
		if svc, err = c.offline(ctx); err != nil {
			return fmt.Errorf("%w (or pass --directory FILE)", err)
		}
	}
	results, err := svc.TestPolicy(ctx, pos[0], p, samples, dir)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLAIM\tSTAGE\tMETHOD\tASSIGNEE\tRULE\tPRIORITY\tREASON")
	for _, r := range results {
		d := r.Decision
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ClaimID, d.Stage, d.Method, orDash(d.Assignee), orDash(d.MatchedRule), orDash(d.Priority), d.Reason)
	}
	return tw.Flush()
}

// cmdExplain prints, for each decision of a claim (or one stage), the method and
// the pick, the rules tried, and a page of the candidates and of who was excluded
// and why, read from the ledger.
func cmdExplain(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	limit := fs.Int("limit", 20, "how many candidates and exclusions to list per decision (at most 1000)")
	offset := fs.Int("offset", 0, "the first candidate to list")
	var pos []string
	var err error
	if len(args) >= 2 && !strings.HasPrefix(args[1], "-") {
		pos, err = parse(fs, args, "CLAIM", "STAGE")
	} else {
		pos, err = parse(fs, args, "CLAIM")
	}
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > store.MaxPage {
		return usagef("--limit %d: want 1 to %d", *limit, store.MaxPage)
	}
	var stage policy.Stage
	if len(pos) == 2 {
		if stage, err = policy.ParseStage(pos[1]); err != nil {
			return usagef("%v", err)
		}
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	decisions, err := st.DecisionsByClaim(ctx, pos[0])
	if err != nil {
		return err
	}
	shown := 0
	for _, d := range decisions {
		if stage != "" && d.Stage != stage {
			continue
		}
		shown++
		key := policy.DecisionKey{WorkflowID: workflows.WorkflowID(pos[0]), Stage: d.Stage, Seq: d.Seq}
		if err := explainOne(ctx, c, st, key, d, *offset, *limit); err != nil {
			return err
		}
	}
	if shown == 0 {
		return fmt.Errorf("no decisions recorded for claim %s%s", pos[0], map[bool]string{true: " at " + string(stage)}[stage != ""])
	}
	return nil
}

func explainOne(ctx context.Context, c *cli, st *store.Store, key policy.DecisionKey, d policy.Decision, offset, limit int) error {
	w := c.stdout
	fmt.Fprintf(w, "%s · decision %d · %s · policy %s\n", d.Stage, d.Seq, d.Method, d.PolicyVersion)
	fmt.Fprintf(w, "  pick      %s — %s\n", orDash(d.Assignee), d.Reason)
	if d.Actor != "" {
		fmt.Fprintf(w, "  by        %s\n", d.Actor)
	}
	if !workflows.IsStageDecision(d.Method) {
		fmt.Fprintln(w)
		return nil
	}
	if len(d.Required) > 0 {
		fmt.Fprintf(w, "  requires  %s\n", strings.Join(d.Required, ", "))
	}
	e, err := st.ExplanationGet(ctx, key)
	if err != nil {
		return err
	}
	for _, t := range e.RuleTrace {
		verdict := "did not match"
		if t.Matched {
			verdict = "MATCHED"
		}
		fmt.Fprintf(w, "  rule      %s %s: %s\n", t.RuleID, verdict, t.Reason())
	}
	if e.RuleDrift.Drifted {
		fmt.Fprintf(w, "  drift     %s\n", e.RuleDrift.Why)
	}
	if d.Priority != "" {
		fmt.Fprintf(w, "  priority  %s\n", d.Priority)
	}
	page, err := st.CandidatesPage(ctx, key, "", offset, limit)
	if err != nil {
		return err
	}
	ids := make([]string, len(page.Users))
	for i, x := range page.Users {
		ids[i] = x.UserID
	}
	fmt.Fprintf(w, "  eligible  %d: %s\n", page.Total, orDash(strings.Join(ids, ", ")))
	if page.Next > 0 {
		fmt.Fprintf(w, "            … --offset %d for more\n", page.Next)
	}
	if e.Requirement != nil {
		ex, err := st.ExplanationExcluded(ctx, key, *e.Requirement, 0, limit)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  excluded  %d\n", d.Excluded)
		for _, x := range ex.Excluded {
			fmt.Fprintf(w, "  removed   %s: %s\n", x.UserID, x.Reason)
		}
		if ex.Next > 0 {
			fmt.Fprintf(w, "            … and more (the API pages them)\n")
		}
	}
	fmt.Fprintln(w)
	return nil
}

func cmdHostRecord(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("host record", flag.ContinueOnError)
	at := fs.String("at", "", "when, in RFC 3339 (default: now)")
	pos, err := parse(fs, args, "SUBJECT", "USER")
	if err != nil {
		return err
	}
	when := time.Now()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usagef("--at %q: want RFC 3339, e.g. 2026-11-22T09:30:00Z", *at)
		}
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	if _, err := st.UserGet(ctx, pos[1]); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("unknown user %q", pos[1])
		}
		return err
	}
	if err := st.HostRecord(ctx, pos[0], pos[1], when); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "recorded %s as host of %s at %s\n", pos[1], pos[0], when.UTC().Format(time.RFC3339))
	return nil
}

func cmdMigratePolicy(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("migrate-policy", flag.ContinueOnError)
	actor := fs.String("as", "", "the admin migrating it (required)")
	comment := fs.String("comment", "", "why")
	pos, err := parse(fs, args, "CLAIM", "VERSION")
	if err != nil {
		return err
	}
	version, err := strconv.Atoi(pos[1])
	if err != nil || version < 1 {
		return usagef("VERSION %q: want a version number such as 3", pos[1])
	}
	if *actor == "" {
		return usagef("--as USER is required: which admin is migrating")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	ref, err := claims.MigratePolicy(ctx, pos[0], workflows.MigratePolicyInput{Actor: *actor, Version: version, Comment: *comment})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s now runs under %s from its next decision\n", pos[0], ref)
	return nil
}
