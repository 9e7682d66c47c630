package workflows

import (
	"fmt"
	"time"

	"github.com/batonhq/baton/policy"
)

// ClaimInput starts a claim.
type ClaimInput struct {
	ClaimID string `json:"claimId"`
	// Owner is the user who owns the claim's workflow; the owner may reassign.
	Owner string            `json:"owner,omitempty"`
	Data  map[string]string `json:"data,omitempty"`
}

// AssignInput is the assign update: Actor makes UserID the current stage's assignee.
type AssignInput struct {
	Actor   string `json:"actor"`
	UserID  string `json:"userId"`
	Comment string `json:"comment,omitempty"`
}

// CompleteInput is the complete_stage update. Outcome is required at review
// (approval, goodwill, repudiation, no_claim) and not accepted elsewhere.
type CompleteInput struct {
	Actor   string `json:"actor"`
	Outcome string `json:"outcome,omitempty"`
	Note    string `json:"note,omitempty"`
}

// ClaimStageInput is the claim update: Actor takes the current stage themselves.
type ClaimStageInput struct {
	Actor string `json:"actor"`
}

// UnassignInput is the unassign update: Actor returns the stage to its queue.
type UnassignInput struct {
	Actor   string `json:"actor"`
	Comment string `json:"comment,omitempty"`
}

// StartReassignmentInput is the start_reassignment update: Actor sends the current
// stage to the named reassignment group.
type StartReassignmentInput struct {
	Actor   string `json:"actor"`
	Group   string `json:"group"`
	Comment string `json:"comment,omitempty"`
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
	ClaimID            string             `json:"claimId"`
	Owner              string             `json:"owner,omitempty"`
	Stage              policy.Stage       `json:"stage"`
	Status             string             `json:"status"`
	Assignee           string             `json:"assignee,omitempty"`
	AssignmentsEnabled bool               `json:"assignmentsEnabled"`
	Candidates         []policy.Candidate `json:"candidates"`
	ReviewOutcome      policy.Outcome     `json:"reviewOutcome,omitempty"`
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
	Priority  string            `json:"priority,omitempty"`
	Completed []StageResult     `json:"completed"`
	Decisions []policy.Decision `json:"decisions"`
}

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
	// Policy is the stored policy version to decide under; empty: the worker's.
	Policy PolicyRef `json:"policy,omitempty"`
}

// RecordAssignmentInput records a person's choice of assignee in the ledger and
// notifies the new assignee.
type RecordAssignmentInput struct {
	WorkflowID    string             `json:"workflowId"`
	ClaimID       string             `json:"claimId"`
	Stage         policy.Stage       `json:"stage"`
	Seq           int                `json:"seq"`
	Assignee      string             `json:"assignee"`
	Previous      string             `json:"previous,omitempty"`
	Actor         string             `json:"actor"`
	Comment       string             `json:"comment,omitempty"`
	PolicyVersion string             `json:"policyVersion"`
	Candidates    []policy.Candidate `json:"candidates"`
	// Method says what kind of assignment this is; empty means assign.
	Method policy.Method `json:"method,omitempty"`
	// Reason overrides the reason derived from the actor and previous assignee;
	// timer-driven assignments say which timer.
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at,omitempty"`
}

// RecordEventInput records a timeline event that is not itself a decision (an
// expiry, an escalation, an offer, a completion) and notifies users in-app.
type RecordEventInput struct {
	WorkflowID string       `json:"workflowId"`
	ClaimID    string       `json:"claimId"`
	Stage      policy.Stage `json:"stage"`
	Seq        int          `json:"seq"`
	Kind       string       `json:"kind"`
	Actor      string       `json:"actor,omitempty"`
	Subject    string       `json:"subject,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	Comment    string       `json:"comment,omitempty"`
	At         time.Time    `json:"at"`
	// Notify lists users to tell in-app, with Message.
	Notify  []string `json:"notify,omitempty"`
	Message string   `json:"message,omitempty"`
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
	// Candidates are the users eligible for the stage; only they are offered it.
	Candidates []string  `json:"candidates"`
	At         time.Time `json:"at"`
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
	Candidates   []string      `json:"candidates"`
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
type PinPolicyInput struct {
	Version int `json:"version,omitempty"`
}

// MigratePolicyInput is the migrate_policy update.
type MigratePolicyInput struct {
	Actor   string `json:"actor"`
	Version int    `json:"version"`
	Comment string `json:"comment,omitempty"`
}
