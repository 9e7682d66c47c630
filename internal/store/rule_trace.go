package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/batonhq/baton/policy"
)

// renderRules renders the rules tried by a decision that recorded them: it
// reads the decision's pinned policy version and re-evaluates its rules over
// the recorded values (policy.RenderTraceJSON), so the trace reads as the
// decision would have written it. A record whose rules cannot be re-read (its
// policy was not a stored version, is gone, or no longer parses) is explained,
// not an error: the drift says why no rules are shown.
func (qs *Queries) renderRules(ctx context.Context, k policy.DecisionKey, e *Explained) error {
	rec := *e.RuleRecord
	if rec.Policy.IsZero() {
		e.RuleDrift = rec.Unrendered(fmt.Sprintf("policy %s is not a stored version", e.Decision.PolicyVersion))
		return nil
	}
	sp, err := qs.PolicyVersion(ctx, rec.Policy.Name, rec.Policy.Version)
	if errors.Is(err, ErrNotFound) {
		e.RuleDrift = rec.Unrendered(fmt.Sprintf("policy %s is not stored", rec.Policy))
		return nil
	}
	if err != nil {
		return fmt.Errorf("rules of decision %s: %w", k, err)
	}
	p, err := sp.Parse()
	if err != nil {
		e.RuleDrift = rec.Unrendered(fmt.Sprintf("policy %s no longer parses: %v", rec.Policy, err))
		return nil
	}
	// Rendered to the JSON an old row stores, and read back as one is, so the
	// two read the same.
	trace, drift := policy.RenderTraceJSON(p, rec)
	if err := json.Unmarshal(trace, &e.RuleTrace); err != nil {
		return fmt.Errorf("read rendered rule trace %s: %w", k, err)
	}
	e.RuleDrift = drift
	return nil
}
