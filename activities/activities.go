// Package activities is where Baton's claim workflow meets the world: PostgreSQL
// through store/, and product modules. Each activity takes one input struct from
// workflows/ and is safe to retry: its effects are keyed by the workflow's own
// (stage, seq), so a second run returns what the first recorded.
//
// It imports policy, workflows and, from internal/, store, notify, metrics and
// actorauth; batonfx and tests import it.
package activities

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/internal/metrics"
	"github.com/batonhq/baton/internal/notify"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// DefaultLinkTemplate builds the deep link in a notification.
const DefaultLinkTemplate = "http://localhost:8080/claims/{claim_id}?stage={stage}"

// Activities holds the dependencies of Baton's activities.
type Activities struct {
	Store  *store.Store
	Policy *policy.Policy
	// Module answers stages whose method is product_module; nil when none is
	// configured, in which case such stages fall back to manual with the reason.
	Module policy.ProductModule
	// LinkTemplate builds deep links; {claim_id}, {stage} and {workflow_id} are
	// replaced, URL-escaped.
	LinkTemplate string
	Log          *slog.Logger
	// Metrics counts decisions, timeline events and notifications once each, after
	// their transaction commits; nil records nothing.
	Metrics *metrics.Metrics
	// Email and Slack deliver notifications beyond the in-app inbox; nil turns a
	// channel off, and then no outbox rows are written for it (see notify.go).
	Email notify.Sender
	Slack notify.Sender
	// AfterCommit, when set, runs after a decision's transaction commits. Tests use
	// it to fail an activity whose work is already durable, as a crash would.
	AfterCommit func(ctx context.Context, key policy.DecisionKey) error
	// Nudge asks claim workflows waiting in the backlog to decide again
	// (claimclient.DecideAgain); nil nudges nobody, and leased stages wait for
	// their lease to end.
	Nudge func(ctx context.Context, workflowIDs []string) error
	// ActorKeys, when set (BATON_ACTOR_KEY), make PinPolicy refuse a claim
	// whose start is not signed with one of them (actorauth.Keys.VerifyStart).
	ActorKeys actorauth.Keys

	policies policyCache
	// turns groups this worker's decisions that wait on the same turn scope.
	turns scopeQueues
}

// New builds the activities. module may be nil.
func New(st *store.Store, p *policy.Policy, module policy.ProductModule, linkTemplate string, log *slog.Logger) *Activities {
	if linkTemplate == "" {
		linkTemplate = DefaultLinkTemplate
	}
	if log == nil {
		log = slog.Default()
	}
	return &Activities{Store: st, Policy: p, Module: module, LinkTemplate: linkTemplate, Log: log}
}

// Register registers every activity under its contract name.
func (a *Activities) Register(r worker.ActivityRegistry) {
	r.RegisterActivityWithOptions(a.ResolveAssignment, activity.RegisterOptions{Name: workflows.ActivityResolveAssignment})
	r.RegisterActivityWithOptions(a.RecordAssignment, activity.RegisterOptions{Name: workflows.ActivityRecordAssignment})
	r.RegisterActivityWithOptions(a.RecordEvent, activity.RegisterOptions{Name: workflows.ActivityRecordEvent})
	r.RegisterActivityWithOptions(a.PlanReassignment, activity.RegisterOptions{Name: workflows.ActivityPlanReassignment})
	r.RegisterActivityWithOptions(a.OfferNext, activity.RegisterOptions{Name: workflows.ActivityOfferNext})
	r.RegisterActivityWithOptions(a.RecordCompletion, activity.RegisterOptions{Name: workflows.ActivityRecordCompletion})
	r.RegisterActivityWithOptions(a.PinPolicy, activity.RegisterOptions{Name: workflows.ActivityPinPolicy})
	r.RegisterActivityWithOptions(a.SendNotifications, activity.RegisterOptions{Name: workflows.ActivitySendNotifications})
}

// link builds a claim's deep link.
func (a *Activities) link(workflowID, claimID string, stage policy.Stage) string {
	return strings.NewReplacer(
		"{claim_id}", url.PathEscape(claimID),
		"{stage}", url.QueryEscape(string(stage)),
		"{workflow_id}", url.PathEscape(workflowID),
	).Replace(a.LinkTemplate)
}

// afterCommit runs the test hook, if any.
func (a *Activities) afterCommit(ctx context.Context, k policy.DecisionKey) error {
	if a.AfterCommit == nil {
		return nil
	}
	return a.AfterCommit(ctx, k)
}
