package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonhq/baton/policy"
)

// ClaimInput starts a claim.
type ClaimInput struct {
	ClaimID string `json:"claimId"`
	// Owner is the user who owns the claim's workflow; the owner may reassign.
	Owner string `json:"owner,omitempty"`
	// Data is the claim's attributes (see ClaimData for numbers and booleans).
	Data ClaimData `json:"data,omitempty"`
	// Continued is what the claim carries into its next run when it continues
	// as new (see Continued). Only the claim itself sets it: a start that
	// carries it is refused.
	Continued *Continued `json:"continued,omitempty" baton:"internal"`

	undecodable error // set by UnmarshalJSON; see Check
}

// Continued is a claim's state as one run hands it to the next, when its
// history has grown large (continueAsNew): the state, the seq its ledger and
// timeline rows go on from, the decision in force for its current stage, and
// its stage timers as instants, so a window or a due time runs on from where
// it was. Nothing else crosses: the new run's history starts from this.
type Continued struct {
	State    ClaimState      `json:"state"`
	Seq      int             `json:"seq"`
	Decision policy.Decision `json:"decision"`
	// DueAt is when the current stage escalates; zero when it has no due time
	// or has escalated already.
	DueAt time.Time `json:"dueAt,omitzero"`
	// WindowSince is when the stage began its present wait in the queue, if a
	// claim window is running; WindowOver says the window's fallback failed
	// (its default assignee left), so no further window runs this stage.
	WindowSince time.Time `json:"windowSince,omitzero"`
	WindowOver  bool      `json:"windowOver,omitempty"`
}

// AssignInput is the assign update: Actor makes UserID the current stage's assignee.
type AssignInput struct {
	Actor   string `json:"actor"`
	UserID  string `json:"userId"`
	Comment string `json:"comment,omitempty"`
	// Override assigns past the user's capacity limit; the decision says so.
	Override bool `json:"override,omitempty"`
	// Stage, when set, is the stage the caller means: the update is refused
	// (BatonConflict) if the claim has moved to another, so an action taken on
	// a stale view never lands on the next stage.
	Stage policy.Stage `json:"stage,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}

// CompleteInput is the complete_stage update. Outcome is required at review
// (approval, goodwill, repudiation, no_claim) and not accepted elsewhere.
type CompleteInput struct {
	Actor   string `json:"actor"`
	Outcome string `json:"outcome,omitempty"`
	Note    string `json:"note,omitempty"`
	// Stage, when set, is the stage the caller means: the update is refused
	// (BatonConflict) if the claim has moved to another, so an action taken on
	// a stale view never lands on the next stage.
	Stage policy.Stage `json:"stage,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}

// ClaimStageInput is the claim update: Actor takes the current stage themselves.
type ClaimStageInput struct {
	Actor string `json:"actor"`
	// Override takes the stage past the actor's own capacity limit.
	Override bool `json:"override,omitempty"`
	// Stage, when set, is the stage the caller means: the update is refused
	// (BatonConflict) if the claim has moved to another, so an action taken on
	// a stale view never lands on the next stage.
	Stage policy.Stage `json:"stage,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}

// UnassignInput is the unassign update: Actor returns the stage to its queue.
type UnassignInput struct {
	Actor   string `json:"actor"`
	Comment string `json:"comment,omitempty"`
	// Stage, when set, is the stage the caller means: the update is refused
	// (BatonConflict) if the claim has moved to another, so an action taken on
	// a stale view never lands on the next stage.
	Stage policy.Stage `json:"stage,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}

// StartReassignmentInput is the start_reassignment update: Actor sends the current
// stage to the named reassignment group.
type StartReassignmentInput struct {
	Actor   string `json:"actor"`
	Group   string `json:"group"`
	Comment string `json:"comment,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}

// Reassignment is a reassignment group round, in progress or finished.
type Reassignment struct {
	Group           string             `json:"group"`
	Method          policy.GroupMethod `json:"method"`
	DefaultAssignee string             `json:"defaultAssignee"`
	OfferTimeout    time.Duration      `json:"offerTimeout"`
	StartedBy       string             `json:"startedBy"`
	Comment         string             `json:"comment,omitempty"`
	// Offered are the members who may claim it now.
	Offered []string `json:"offered"`
	// OfferedSoFar are every member offered it in this round.
	OfferedSoFar []string `json:"offeredSoFar"`
	// Result says how it ended; empty while in progress.
	Result string `json:"result,omitempty"`
}

// StageResult is a completed stage.
type StageResult struct {
	Stage       policy.Stage   `json:"stage"`
	Assignee    string         `json:"assignee,omitempty"`
	CompletedBy string         `json:"completedBy"`
	Outcome     policy.Outcome `json:"outcome,omitempty"`
	Note        string         `json:"note,omitempty"`
}

// ClaimState is what the state query returns.
type ClaimState struct {
	ClaimID string `json:"claimId"`
	Owner   string `json:"owner,omitempty"`
	// Data is the claim's attributes as it was started with them: what rules and
	// a product module see.
	Data               map[string]string `json:"data,omitempty"`
	Stage              policy.Stage      `json:"stage"`
	Status             string            `json:"status"`
	Assignee           string            `json:"assignee,omitempty"`
	AssignmentsEnabled bool              `json:"assignmentsEnabled"`
	// Eligible and Excluded count who could and could not take the current stage
	// when it was decided; Sample names the first few (at most policy.SampleSize).
	// The full list is in the ledger under Explain: `starter explain`, the
	// assignment-options endpoints and the queue page read it page by page.
	Eligible      int                 `json:"eligible"`
	Excluded      int                 `json:"excluded"`
	Sample        []string            `json:"sample"`
	Explain       *policy.DecisionKey `json:"explain,omitempty"`
	ReviewOutcome policy.Outcome      `json:"reviewOutcome,omitempty"`
	// Queue is where the stage waits while unassigned.
	Queue string `json:"queue,omitempty"`
	// Rules are the current stage's queue and timers.
	Rules policy.StageRules `json:"rules"`
	// Reassignment is the current stage's latest reassignment group round.
	Reassignment *Reassignment `json:"reassignment,omitempty"`
	// Policy is the stored policy version the claim runs under; empty means the
	// worker's own policy (claims started before policies were stored).
	Policy PolicyRef `json:"policy"`
	// Priority is the priority a distribution rule set.
	Priority  string        `json:"priority,omitempty"`
	Completed []StageResult `json:"completed"`
	// Decisions are the claim's latest decisions, oldest first: at most
	// MaxStateDecisions, so the state answer stays small whatever the claim
	// has been through. DecisionCount counts them all; the timeline (starter
	// timeline, GET /api/claims/{id}/timeline) has every one.
	Decisions     []policy.Decision `json:"decisions"`
	DecisionCount int               `json:"decisionCount"`
	// StageDecisions is the seq of each reached stage's decision in force:
	// where its candidates are in the ledger.
	StageDecisions map[policy.Stage]int `json:"stageDecisions,omitempty"`
	// Changes is how many times the current stage has changed hands since it
	// was decided; people's changes stop at Rules.ChangeBudget().
	Changes int `json:"changes"`
	// Closed says how the claim's workflow ended when it did not finalise
	// ("terminated", "timed out", "failed", "canceled"): set by claimclient
	// from Temporal, never by the workflow. The rest is the state as it was
	// then; none of its stages counts as anyone's open work any more.
	Closed string `json:"closed,omitempty"`
	// Runs counts the times the claim's workflow has continued as new: each
	// run's history holds what happened in it, the timeline everything.
	Runs int `json:"runs,omitempty"`
}

// MaxStateDecisions is how many of its latest decisions a claim's state keeps.
const MaxStateDecisions = 20

// ClaimSummary is the workflow's result once the claim is finalised.
type ClaimSummary struct {
	ClaimID       string         `json:"claimId"`
	ReviewOutcome policy.Outcome `json:"reviewOutcome"`
	Stages        []StageResult  `json:"stages"`
	Decisions     int            `json:"decisions"`
}

// ResolveAssignmentInput asks for a stage's decision. (WorkflowID, Stage, Seq) is
// the ledger key: asking twice returns the first answer.
type ResolveAssignmentInput struct {
	WorkflowID string         `json:"workflowId"`
	Claim      policy.Claim   `json:"claim"`
	Stage      policy.Stage   `json:"stage"`
	Seq        int            `json:"seq"`
	Outcome    policy.Outcome `json:"outcome,omitempty"`
	// CurrentUser asks on a user's behalf; empty when the system starts the stage.
	CurrentUser string `json:"currentUser,omitempty"`
	// At is the workflow's time of the decision, for the timeline.
	At time.Time `json:"at,omitempty"`
	// Steps are the earlier stages' results, for assignee expressions.
	Steps map[policy.Stage]policy.StepOutput `json:"steps,omitempty"`
	// Without are people the decision may not pick, with why (a redistributed
	// stage's leaver); Why starts its reason.
	Without map[string]string `json:"without,omitempty"`
	Why     string            `json:"why,omitempty"`
	// Policy is the stored policy version to decide under; empty: the worker's.
	Policy PolicyRef `json:"policy,omitempty"`
}

// RecordAssignmentInput records a person's or a timer's choice of assignee in the
// ledger and notifies the new assignee. A person's action (Action set) is
// authorised there, against the directory as it is now.
type RecordAssignmentInput struct {
	WorkflowID    string       `json:"workflowId"`
	ClaimID       string       `json:"claimId"`
	Stage         policy.Stage `json:"stage"`
	Seq           int          `json:"seq"`
	Assignee      string       `json:"assignee"`
	Previous      string       `json:"previous,omitempty"`
	Actor         string       `json:"actor"`
	Comment       string       `json:"comment,omitempty"`
	PolicyVersion string       `json:"policyVersion"`
	// DecidedSeq is the seq of the stage's own decision: its requirement and
	// candidates in the ledger say who may take the stage.
	DecidedSeq int `json:"decidedSeq"`
	// Action is the person's action to authorise; empty for a timer's.
	Action policy.Intervention `json:"action,omitempty"`
	// Owner is the claim's owner, who may reassign while active.
	Owner string `json:"owner,omitempty"`
	// Reassigning is set when a reassignment group member claims the stage.
	Reassigning bool `json:"reassigning,omitempty"`
	// Method says what kind of assignment this is; empty means assign.
	Method policy.Method `json:"method,omitempty"`
	// Reason overrides the reason derived from the actor and previous assignee;
	// timer-driven assignments say which timer.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitempty"`
	// Override records a person's assignment past the assignee's capacity limit.
	Override bool `json:"override,omitempty"`
	// FourEyes are the people the stage's decision keeps from it (four eyes),
	// FourEyesOf the earlier stages whose actors it excludes.
	FourEyes   []string       `json:"fourEyes,omitempty"`
	FourEyesOf []policy.Stage `json:"fourEyesOf,omitempty"`
	// Before is a timeline event recorded first, under a seq of its own, in
	// the same transaction (a claim window's expiry before its fallback): the
	// timeline never says a timer ran out without what it did, and one write
	// serves both.
	Before *RecordEventInput `json:"before,omitempty"`
}

// RedistributeInput is the redistribute signal: if the current stage is held by
// User, decide it again without them, starting the reason with Reason.
type RedistributeInput struct {
	User   string `json:"user"`
	Reason string `json:"reason"`
	// Absence marks a move because an absence started: only stages whose
	// policy says onAbsence: redistribute move.
	Absence bool `json:"absence,omitempty"`
}

// RecordEventInput records a timeline event that is not itself a decision (an
// expiry, an escalation, an offer, a completion) and notifies users in-app.
type RecordEventInput struct {
	policy.TimelineEvent
	// Notify lists users to tell in-app, with Message.
	Notify  []string `json:"notify,omitempty"`
	Message string   `json:"message,omitempty"`
}

// RecordCompletionInput authorises and records a stage's completion: only the
// assignee (with assignments disabled, anyone eligible) who is still active and
// eligible now.
type RecordCompletionInput struct {
	WorkflowID         string       `json:"workflowId"`
	ClaimID            string       `json:"claimId"`
	Stage              policy.Stage `json:"stage"`
	Seq                int          `json:"seq"`
	DecidedSeq         int          `json:"decidedSeq"`
	Actor              string       `json:"actor"`
	Assignee           string       `json:"assignee,omitempty"`
	AssignmentsEnabled bool         `json:"assignmentsEnabled"`
	// AssigneeExempt: the assignee got the stage as its default assignee or
	// escalation target and need not be eligible, only active.
	AssigneeExempt bool           `json:"assigneeExempt,omitempty"`
	Outcome        policy.Outcome `json:"outcome,omitempty"`
	Note           string         `json:"note,omitempty"`
	At             time.Time      `json:"at"`
	// FourEyes are the people the stage's decision keeps from it: none of
	// them may complete it, with assignments or without; FourEyesOf the
	// earlier stages whose actors it excludes.
	FourEyes   []string       `json:"fourEyes,omitempty"`
	FourEyesOf []policy.Stage `json:"fourEyesOf,omitempty"`
}

// SendNotificationsInput names the decision or event whose queued e-mail and Slack
// messages to send: the same (WorkflowID, Stage, Seq) key that recorded them.
// Sending twice sends nothing twice: a message is marked sent when it goes.
type SendNotificationsInput struct {
	WorkflowID string       `json:"workflowId"`
	Stage      policy.Stage `json:"stage"`
	Seq        int          `json:"seq"`
}

// SendNotificationsResult counts what one run of SendNotifications did.
type SendNotificationsResult struct {
	// Sent is how many messages this run sent.
	Sent int `json:"sent"`
	// AlreadySent is how many an earlier run (or a concurrent one) had sent.
	AlreadySent int `json:"alreadySent"`
	// Failed is how many failed this run; the activity then fails and retries them.
	Failed int `json:"failed"`
}

// PlanReassignmentInput asks for a reassignment group's plan and records that the
// round started.
type PlanReassignmentInput struct {
	WorkflowID string       `json:"workflowId"`
	ClaimID    string       `json:"claimId"`
	Stage      policy.Stage `json:"stage"`
	Seq        int          `json:"seq"`
	Group      string       `json:"group"`
	Actor      string       `json:"actor"`
	Comment    string       `json:"comment,omitempty"`
	// DecidedSeq is the stage's decision: only members eligible for it now are
	// offered the stage.
	DecidedSeq int `json:"decidedSeq"`
	// Owner and Assignee decide, with the directory now, whether Actor may start it.
	Owner    string    `json:"owner,omitempty"`
	Assignee string    `json:"assignee,omitempty"`
	At       time.Time `json:"at"`
}

// ReassignmentPlan is a group as the round uses it.
type ReassignmentPlan struct {
	Group           string             `json:"group"`
	Method          policy.GroupMethod `json:"method"`
	DefaultAssignee string             `json:"defaultAssignee"`
	OfferTimeout    time.Duration      `json:"offerTimeout"`
	// Members are the group's members eligible for the stage, in group order.
	Members []string `json:"members"`
	// Skipped are members not offered, with why.
	Skipped []policy.Exclusion `json:"skipped,omitempty"`
}

// OfferNextInput asks for the group's next member in turn. Offered lists who this
// round already offered; when the turn comes back to one of them the round is over.
type OfferNextInput struct {
	WorkflowID   string        `json:"workflowId"`
	ClaimID      string        `json:"claimId"`
	Stage        policy.Stage  `json:"stage"`
	Seq          int           `json:"seq"`
	Group        string        `json:"group"`
	DecidedSeq   int           `json:"decidedSeq"`
	Offered      []string      `json:"offered"`
	OfferTimeout time.Duration `json:"offerTimeout"`
	At           time.Time     `json:"at"`
}

// OfferNextResult names the member offered the claim, or Done when every eligible
// member has had their turn in this round.
type OfferNextResult struct {
	Member string `json:"member,omitempty"`
	Done   bool   `json:"done,omitempty"`
}

// PolicyRef names a stored policy version.
type PolicyRef struct {
	Name    string `json:"name,omitempty"`
	Version int    `json:"version,omitempty"`
}

// IsZero reports an empty reference.
func (r PolicyRef) IsZero() bool { return r.Name == "" }

// String is "name@vN".
func (r PolicyRef) String() string {
	if r.IsZero() {
		return "the worker's policy"
	}
	return fmt.Sprintf("%s@v%d", r.Name, r.Version)
}

// PinPolicyInput asks for a stored policy version: Version 0 means the latest.
// With Actor set (a migration) the actor must be an active admin now.
type PinPolicyInput struct {
	Version int    `json:"version,omitempty"`
	Actor   string `json:"actor,omitempty"`
	ClaimID string `json:"claimId,omitempty"`
	// Start, set when the claim starts, is judged first: a start Baton cannot
	// use fails the claim with a BatonInvalidRequest naming the field.
	Start *StartCheck `json:"start,omitempty"`
}

// StartCheck is what a claim's start is judged on: Check needs nothing else,
// and the owner, if any, must be in the directory.
type StartCheck struct {
	WorkflowID string `json:"workflowId"`
	ClaimID    string `json:"claimId"`
	Owner      string `json:"owner,omitempty"`
	// Undecodable is why the start input could not be decoded, naming the field.
	Undecodable string `json:"undecodable,omitempty"`
	// Assertion is the start's actor assertion as its header carried it (the
	// JSON of an actorauth.Assertion; empty when none came), and Args the
	// digest of its input it must bind (ArgsDigest(StartAssertion, input)):
	// with a key set, PinPolicy refuses a start whose assertion does not hold.
	Assertion json.RawMessage `json:"assertion,omitempty"`
	Args      string          `json:"args,omitempty"`
}

// MigratePolicyInput is the migrate_policy update.
type MigratePolicyInput struct {
	Actor   string `json:"actor"`
	Version int    `json:"version"`
	Comment string `json:"comment,omitempty"`

	undecodable error // set by UnmarshalJSON: the validator rejects it
}
