package workflows

import (
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
	Rules     policy.StageRules `json:"rules"`
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
