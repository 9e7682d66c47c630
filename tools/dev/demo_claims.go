package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// runClaims pushes claims through every stage, --parallel at a time, printing each
// decision, then the assignments per user and stage.
func runClaims(ctx context.Context, claims *claimclient.Client, f *flags, owner string, out io.Writer) error {
	prefix := "demo-" + time.Now().UTC().Format("20060102-150405")
	var (
		mu sync.Mutex
		// Assignments per person at each stage: turns are counted per person and
		// stage, whatever the review outcome.
		counts = map[string]map[string]int{}
		errs   []error
		wg     sync.WaitGroup
		sem    = make(chan struct{}, max(1, f.parallel))
	)
	print := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format, args...)
	}
	for i := 1; i <= f.claims; i++ {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		outcome := policy.Outcomes[(i-1)%len(policy.Outcomes)]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := driveClaim(ctx, claims, id, owner, outcome, func(d policy.Decision, actor string) {
				// Per person and stage, whatever the outcome: one notion of whose turn
				// it is per stage. Only people who got work are listed, so the summary
				// stays readable at 100,000 users.
				scope := string(d.Stage)
				mu.Lock()
				if counts[scope] == nil {
					counts[scope] = map[string]int{}
				}
				counts[scope][actor]++
				mu.Unlock()
				print("%s  %-11s → %-6s %-14s %s [policy %s]\n", id, d.Stage, actor, d.Method, d.Reason, d.PolicyVersion)
			}, print)
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("claim %s: %w", id, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintf(out, "\n%d claims finalised; assignments per person at each stage:\n", f.claims-len(errs))
	scopes := make([]string, 0, len(counts))
	for sc := range counts {
		scopes = append(scopes, sc)
	}
	sort.Slice(scopes, func(i, j int) bool { return stageOrder(scopes[i]) < stageOrder(scopes[j]) })
	for _, st := range scopes {
		var parts []string
		lo, hi := -1, 0
		for _, u := range sortedKeys(counts[st]) {
			n := counts[st][u]
			parts = append(parts, fmt.Sprintf("%s=%d", u, n))
			if lo < 0 || n < lo {
				lo = n
			}
			hi = max(hi, n)
		}
		if len(parts) > summaryPeople {
			// At organisation size, name the first few and count the rest.
			parts = append(parts[:summaryPeople], fmt.Sprintf("… %d people in all", len(counts[st])))
		}
		fmt.Fprintf(out, "  %-26s %s (max-min %d)\n", st, strings.Join(parts, " "), hi-max(lo, 0))
	}
	return errors.Join(errs...)
}

// summaryPeople is how many people a stage's summary line names.
const summaryPeople = 8

// driveClaim starts a claim and, at each stage, waits for the decision and
// completes the stage as its assignee (assigning the first eligible user first when
// the method leaves it unassigned). A claim that ends before a stage is
// decided (the worker refused its start, say) fails at once with the reason
// its workflow failed with.
func driveClaim(ctx context.Context, claims *claimclient.Client, id, owner string, outcome policy.Outcome,
	decided func(policy.Decision, string), print func(string, ...any)) error {
	run, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: id, Owner: owner, Data: map[string]string{"source": "demo"}})
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ended := make(chan error, 1)
	go func() { ended <- run.Get(runCtx, nil) }()
	for _, stage := range policy.AssignableStages {
		s, err := waitDecided(ctx, claims, id, stage, ended)
		if err != nil {
			return err
		}
		d := s.Decisions[len(s.Decisions)-1]
		actor := s.Assignee
		if actor == "" {
			if len(s.Sample) == 0 {
				return fmt.Errorf("%s: nobody is eligible (%s)", stage, d.Reason)
			}
			actor = s.Sample[0]
			if s.AssignmentsEnabled {
				if d, err = claims.Assign(ctx, id, workflows.AssignInput{Actor: actor, UserID: actor}); err != nil {
					return err
				}
			}
		}
		decided(d, actor)
		in := workflows.CompleteInput{Actor: actor}
		if stage == policy.StageReview {
			in.Outcome = string(outcome)
		}
		if _, err := claims.Complete(ctx, id, in); err != nil {
			return err
		}
	}
	sum, err := claims.Summary(ctx, id)
	if err != nil {
		return err
	}
	print("%s  finalise    ✓ %s after %d decisions\n", id, sum.ReviewOutcome, sum.Decisions)
	return nil
}

// waitDecided asks the claim's state until stage is decided. ended delivers
// the claim workflow's result should it end first; a minute without either
// is reported with the last state seen.
func waitDecided(ctx context.Context, claims *claimclient.Client, id string, stage policy.Stage, ended <-chan error) (workflows.ClaimState, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		s, err := claims.State(ctx, id)
		if err == nil && s.Stage == stage && s.Status != workflows.StatusDeciding {
			return s, nil
		}
		select {
		case err := <-ended:
			return s, endedEarly(stage, err)
		case <-ctx.Done():
			return s, fmt.Errorf("%s not decided within a minute (last: stage %s, status %s, error %v)", stage, s.Stage, s.Status, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// endedEarly says why a claim ended before stage was decided: the error type
// and message its workflow failed with, as the worker reported them.
func endedEarly(stage policy.Stage, err error) error {
	if err == nil {
		return fmt.Errorf("the claim's workflow completed before %s was decided", stage)
	}
	if t := claimclient.ErrorType(err); t != "" {
		return fmt.Errorf("the claim's workflow failed before %s was decided: %s: %s", stage, t, claimclient.Message(err))
	}
	return fmt.Errorf("the claim's workflow ended before %s was decided: %w", stage, err)
}

// stageOrder sorts scope labels by stage, then by name.
func stageOrder(scope string) string {
	for i, st := range policy.Stages {
		if strings.HasPrefix(scope, string(st)) {
			return fmt.Sprintf("%d %s", i, scope)
		}
	}
	return scope
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
