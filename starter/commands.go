package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

func cmdStart(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("start", flag.ContinueOnError)
	owner := fs.String("owner", "", "the claim's owner (may reassign)")
	var data multi
	fs.Var(&data, "data", "claim attribute KEY=VALUE (repeatable)")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	in := workflows.ClaimInput{ClaimID: pos[0], Owner: *owner, Data: map[string]string{}}
	for _, kv := range data {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usagef("--data %q: want KEY=VALUE", kv)
		}
		in.Data[k] = v
	}
	if err := claimclient.ValidateClaimID(in.ClaimID); err != nil {
		return usagef("%v", err)
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	run, err := claims.Start(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "started claim %s (workflow %s, run %s)\n", in.ClaimID, run.GetID(), run.GetRunID())
	return nil
}

func cmdAssign(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("assign", flag.ContinueOnError)
	actor := fs.String("as", "", "the user doing the assigning (required)")
	comment := fs.String("comment", "", "why (recommended when reassigning)")
	override := fs.Bool("override", false, "assign past USER's capacity limit (recorded as such)")
	pos, err := parse(fs, args, "CLAIM", "USER")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as ACTOR is required: who is assigning")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	d, err := claims.Assign(ctx, pos[0], workflows.AssignInput{Actor: *actor, UserID: pos[1], Comment: *comment,
		Override: *override})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s %s: assigned to %s (%s)\n", pos[0], d.Stage, d.Assignee, d.Reason)
	if d.Warning != "" {
		fmt.Fprintf(c.stderr, "warning: %s\n", d.Warning)
	}
	return nil
}

func cmdComplete(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("complete", flag.ContinueOnError)
	actor := fs.String("as", "", "the user completing the stage (required)")
	outcome := fs.String("outcome", "", "review outcome: approval, goodwill, repudiation or no_claim")
	note := fs.String("note", "", "a note recorded with the stage")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	if *actor == "" {
		return usagef("--as ACTOR is required: who is completing")
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	r, err := claims.Complete(ctx, pos[0], workflows.CompleteInput{Actor: *actor, Outcome: *outcome, Note: *note})
	if err != nil {
		return rejection(err)
	}
	fmt.Fprintf(c.stdout, "claim %s: %s completed by %s", pos[0], r.Stage, r.CompletedBy)
	if r.Outcome != "" {
		fmt.Fprintf(c.stdout, " (%s)", r.Outcome)
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// rejection strips the SDK's wrapping from a rejected update so the user reads
// Baton's message.
func rejection(err error) error {
	if t := claimclient.ErrorType(err); t != "" {
		return errors.New(claimclient.Message(err))
	}
	return err
}

func cmdShow(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the state query's JSON")
	pos, err := parse(fs, args, "CLAIM")
	if err != nil {
		return err
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	s, err := claims.State(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c, s)
	}
	fmt.Fprintf(c.stdout, "claim     %s\nstage     %s\nstatus    %s\nassignee  %s\n", s.ClaimID, s.Stage, s.Status, orDash(s.Assignee))
	if s.Closed != "" {
		fmt.Fprintf(c.stdout, "closed    %s in Temporal, not finalised: the above is how it was then, and it is nobody's open work\n", s.Closed)
	}
	if s.Owner != "" {
		fmt.Fprintf(c.stdout, "owner     %s\n", s.Owner)
	}
	if s.ReviewOutcome != "" {
		fmt.Fprintf(c.stdout, "outcome   %s\n", s.ReviewOutcome)
	}
	if s.Status == workflows.StatusUnassigned && s.Queue != "" {
		fmt.Fprintf(c.stdout, "queue     %s\n", s.Queue)
	}
	if r := s.Reassignment; r != nil {
		if r.Result == "" {
			fmt.Fprintf(c.stdout, "reassign  in progress: group %s (%s), offered to %s; the assignee cannot be edited until it ends\n",
				r.Group, r.Method, orDash(strings.Join(r.Offered, ", ")))
		} else {
			fmt.Fprintf(c.stdout, "reassign  group %s: %s\n", r.Group, r.Result)
		}
	}
	fmt.Fprintf(c.stdout, "eligible  %s\n", policy.SampleList(s.Sample, s.Eligible))
	if s.Explain != nil {
		fmt.Fprintf(c.stdout, "          %d eligible, %d excluded: starter explain %s %s lists them\n", s.Eligible, s.Excluded, s.ClaimID, s.Explain.Stage)
	}
	fmt.Fprintf(c.stdout, "\ndecisions:\n")
	if earlier := s.DecisionCount - len(s.Decisions); earlier > 0 {
		fmt.Fprintf(c.stdout, "  (the latest %d of %d: starter timeline %s lists every one)\n", len(s.Decisions), s.DecisionCount, s.ClaimID)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SEQ\tSTAGE\tMETHOD\tASSIGNEE\tPOLICY\tREASON")
	for _, d := range s.Decisions {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", d.Seq, d.Stage, d.Method, orDash(d.Assignee), d.PolicyVersion, d.Reason)
	}
	return tw.Flush()
}

func cmdOptions(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("options", flag.ContinueOnError)
	offset := fs.Int("offset", 0, "the first candidate to list")
	limit := fs.Int("limit", 100, "how many candidates to list (at most 1000)")
	as := fs.String("as", "", "ask as this user: a product_module stage answers for them, as currentUser")
	pos, err := parse(fs, args, "CLAIM", "STAGE")
	if err != nil {
		return err
	}
	stage, err := policy.ParseStage(pos[1])
	if err != nil {
		return usagef("%v", err)
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	s, err := claims.State(ctx, pos[0])
	if err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	svc, err := c.service(ctx)
	if err != nil {
		return err
	}
	var me *policy.User
	if *as != "" {
		u, err := st.UserGet(ctx, *as)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("--as %q: no such user in the directory", *as)
		}
		if err != nil {
			return err
		}
		me = &u
	}
	page, err := svc.Options(ctx, s, stage, me, *offset, min(*limit, store.MaxPage))
	if err != nil {
		return fmt.Errorf("claim %s %s: %w", pos[0], stage, err)
	}
	if page.Next > 0 {
		fmt.Fprintf(c.stderr, "%d of %d candidates; --offset %d for the next page\n", len(page.Users), page.Total, page.Next)
	}
	return printJSON(c, claimclient.AssignmentOptions{AssignedTo: page.AssignedTo, Users: page.Users})
}

func cmdInbox(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("inbox", flag.ContinueOnError)
	all := fs.Bool("all", false, "include read items")
	pos, err := parse(fs, args, "USER")
	if err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	items, err := st.Inbox(ctx, pos[0], *all, 100)
	if err != nil {
		return err
	}
	for _, it := range items {
		fmt.Fprintf(c.stdout, "%s  %s  %s\n", it.CreatedAt.Format(time.RFC3339), it.Message, it.Link)
	}
	if len(items) == 0 {
		fmt.Fprintf(c.stdout, "no notifications for %s\n", pos[0])
	}
	return nil
}

func cmdDirectoryLoad(ctx context.Context, c *cli, args []string) error {
	fs := flag.NewFlagSet("directory load", flag.ContinueOnError)
	pos, err := parse(fs, args, "FILE")
	if err != nil {
		return err
	}
	d, err := yamlfile.LoadDirectory(pos[0])
	if err != nil {
		return fmt.Errorf("nothing loaded:\n%w", err)
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	if _, err := store.Migrate(ctx, st.Pool(), nil); err != nil {
		return err
	}
	sum, err := st.LoadDirectory(ctx, d)
	if err != nil {
		return fmt.Errorf("nothing loaded: %w", err)
	}
	fmt.Fprintf(c.stdout, "loaded %d users and %d teams from %s\n", sum.Users, sum.Teams, pos[0])
	if len(sum.Left) == 0 {
		return nil // nobody who left held anything: Temporal is not needed
	}
	svc, err := c.service(ctx)
	if err == nil {
		err = svc.Reroute(ctx, sum.Left)
	}
	if err != nil {
		return fmt.Errorf("the directory is loaded, but re-routing what leavers hold failed (deactivate them again with starter user deactivate to finish): %w", err)
	}
	for _, l := range sum.Left {
		fmt.Fprintf(c.stdout, "%s was deactivated: %d stages they held sent to be decided again\n", l.User, len(l.Held))
	}
	return nil
}

func cmdMigrate(ctx context.Context, c *cli, args []string) error {
	if _, err := parse(flag.NewFlagSet("migrate", flag.ContinueOnError), args); err != nil {
		return err
	}
	st, err := c.store(ctx)
	if err != nil {
		return err
	}
	applied, err := store.Migrate(ctx, st.Pool(), nil)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(c.stdout, "database is up to date")
	} else {
		fmt.Fprintf(c.stdout, "applied migrations %v\n", applied)
	}
	return nil
}

func cmdServe(ctx context.Context, c *cli, args []string) error {
	if _, err := parse(flag.NewFlagSet("serve", flag.ContinueOnError), args); err != nil {
		return err
	}
	cfg, err := c.config()
	if err != nil {
		return err
	}
	claims, err := c.claims(ctx)
	if err != nil {
		return err
	}
	// Metrics: the queue depth is counted from visibility on each scrape.
	m := metrics.New()
	queueDepth := func(ctx context.Context) ([]metrics.QueueDepth, error) {
		open, err := claims.List(ctx, claimclient.ListFilter{Status: workflows.StatusUnassigned, Limit: 10000})
		if err != nil {
			return nil, err
		}
		var depths []metrics.QueueDepth
		for _, l := range open {
			depths = append(depths, metrics.QueueDepth{Queue: l.Queue, Stage: l.Stage, Count: 1})
		}
		return depths, nil
	}
	if err := m.RegisterQueueDepth(queueDepth, 5*time.Second, c.logger()); err != nil {
		return err
	}
	stopMetrics, err := m.Serve(ctx, cfg.MetricsAddress, c.logger())
	if err != nil {
		return err
	}
	defer stopMetrics()
	if cfg.MetricsAddress != "" {
		fmt.Fprintf(c.stdout, "serving metrics on http://%s/metrics\n", cfg.MetricsAddress)
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddress)
	if err != nil {
		return fmt.Errorf("listen on %s (BATON_HTTP_ADDRESS): %w", cfg.HTTPAddress, err)
	}
	// Every request is authenticated against the API tokens in the database.
	st, err := c.store(ctx)
	if err != nil {
		return fmt.Errorf("the API needs the database for its tokens: %w", err)
	}
	// The configured built-in product module answers options on the caller's
	// behalf; a custom module runs in its own program (see docs/extending.md).
	module, err := policy.BuiltInModule(cfg.ProductModule, st)
	if err != nil {
		return err
	}
	limits := httpapi.Limits{Rate: float64(cfg.APIRate), Burst: cfg.APIBurst, InFlight: cfg.APIInFlight}
	srv := httpapi.NewHTTPServer(httpapi.New(claims, st, c.logger(), httpapi.WithProductModule(module), httpapi.WithLimits(limits)).Handler())
	fmt.Fprintf(c.stdout, "serving the Baton API on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func printJSON(c *cli, v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
