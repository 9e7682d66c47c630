package workflows

import (
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/policy"
)

// The contract other services use by name, from any Temporal SDK. These strings
// must never change; rename Go identifiers freely.
const (
	// TaskQueue is where claim workflows and their activities run.
	TaskQueue = "baton"
	// ClaimWorkflowName is the workflow type.
	ClaimWorkflowName = "ClaimWorkflow"
	// WorkflowIDPrefix prefixes the claim id to form the workflow id.
	WorkflowIDPrefix = "claim/"

	// UpdateAssign sets or changes the current stage's assignee (AssignInput).
	UpdateAssign = "assign"
	// UpdateCompleteStage completes the current stage (CompleteInput).
	UpdateCompleteStage = "complete_stage"
	// UpdateClaim lets an eligible user take unassigned work (ClaimStageInput).
	UpdateClaim = "claim"
	// UpdateUnassign returns the current stage to its queue (UnassignInput).
	UpdateUnassign = "unassign"
	// UpdateStartReassignment sends the current stage to a reassignment group
	// (StartReassignmentInput).
	UpdateStartReassignment = "start_reassignment"
	// UpdateMigratePolicy moves the claim to another stored policy version
	// (MigratePolicyInput); admins only.
	UpdateMigratePolicy = "migrate_policy"
	// QueryState returns ClaimState.
	QueryState = "state"
	// SignalDecideAgain asks a claim whose stage waits in the backlog (everyone
	// eligible was away or full) to decide it again: a slot freed or someone
	// came back. A claim not waiting so ignores it.
	SignalDecideAgain = "decide_again"
	// SignalRedistribute asks a claim to move its current stage off a person who
	// left or went on leave (RedistributeInput): the stage is decided again by its
	// own policy and method, without them. A claim whose stage they no longer
	// hold ignores it, so sending it twice moves nothing twice.
	SignalRedistribute = "redistribute"

	// ActivityResolveAssignment decides a stage's assignee (ResolveAssignmentInput).
	ActivityResolveAssignment = "ResolveAssignment"
	// ActivityRecordAssignment records a person's choice of assignee (RecordAssignmentInput).
	ActivityRecordAssignment = "RecordAssignment"
	// ActivityRecordEvent records a timeline event and notifies (RecordEventInput).
	ActivityRecordEvent = "RecordEvent"
	// ActivityPlanReassignment loads a reassignment group (PlanReassignmentInput).
	ActivityPlanReassignment = "PlanReassignment"
	// ActivityOfferNext offers a claim to a group's next member in turn (OfferNextInput).
	ActivityOfferNext = "OfferNext"
	// ActivityPinPolicy finds the stored policy version a claim runs under (PinPolicyInput).
	ActivityPinPolicy = "PinPolicy"
	// ActivityRecordCompletion authorises and records a completion (RecordCompletionInput).
	ActivityRecordCompletion = "RecordCompletion"
	// ActivitySendNotifications sends the e-mail and Slack messages a decision or
	// event queued in the outbox (SendNotificationsInput).
	ActivitySendNotifications = "SendNotifications"
)

// Search attributes kept current by the claim workflow. All are Keyword.
var (
	StageKey    = temporal.NewSearchAttributeKeyKeyword("BatonStage")
	AssigneeKey = temporal.NewSearchAttributeKeyKeyword("BatonAssignee")
	StatusKey   = temporal.NewSearchAttributeKeyKeyword("BatonStatus")
	// QueueKey names the queue an unassigned stage waits in; unset when assigned.
	QueueKey = temporal.NewSearchAttributeKeyKeyword("BatonQueue")
	// PriorityKey is the priority a distribution rule set (High, Medium, Low).
	PriorityKey = temporal.NewSearchAttributeKeyKeyword("BatonPriority")
	// OwnerKey is the claim's owner; PolicyKey the name of the stored policy it
	// runs under (unset under the worker's own). The queue lists a caller's
	// claims, and claims by policy, through them, not through each claim's state.
	OwnerKey  = temporal.NewSearchAttributeKeyKeyword("BatonOwner")
	PolicyKey = temporal.NewSearchAttributeKeyKeyword("BatonPolicy")
)

// SearchAttributeNames lists the search attributes a namespace must have before
// claims start; an unregistered one would leave workflow tasks retrying forever.
var SearchAttributeNames = []string{"BatonStage", "BatonAssignee", "BatonStatus", "BatonQueue", "BatonPriority", "BatonOwner", "BatonPolicy"}

// Claim statuses, the values of BatonStatus.
const (
	// StatusDeciding: the stage's decision activity is running.
	StatusDeciding = "deciding"
	// StatusUnassigned: the stage is open and nobody is assigned (manual, or nobody eligible).
	StatusUnassigned = "unassigned"
	// StatusAssigned: the stage has an assignee.
	StatusAssigned = "assigned"
	// StatusOpen: claim assignments are disabled; anyone eligible may complete.
	StatusOpen = "open"
	// StatusReassigning: a reassignment group round is in progress; the assignee
	// cannot be edited until it ends.
	StatusReassigning = "reassigning"
	// StatusFinalised: the claim reached finalise; the workflow has completed.
	StatusFinalised = "finalised"
)

// Application error types. Update rejections and activity failures carry one, so
// callers (the CLI, the HTTP API, other SDKs) can tell a forbidden action from a bad
// request or a state conflict without parsing messages.
const (
	// ErrTypeForbidden: the actor may not do this (not the assignee, not an admin…).
	ErrTypeForbidden = "BatonForbidden"
	// ErrTypeInvalid: the request itself is wrong (unknown user, bad outcome…).
	ErrTypeInvalid = "BatonInvalidRequest"
	// ErrTypeConflict: not now (the stage is still being decided, already assigned…).
	ErrTypeConflict = "BatonConflict"
	// ErrTypeUnknownUser: a named user is not in the directory or is inactive.
	ErrTypeUnknownUser = "BatonUnknownUser"
)

// KindOfType is the kind (policy.Kind) of a failure of application error type
// t, "" for a type that is not Baton's: the wire names above are what other
// SDKs see; the kinds are what Baton's own errors share. An unknown or
// departed user named in a request is a bad request.
func KindOfType(t string) policy.Kind {
	switch t {
	case ErrTypeForbidden:
		return policy.KindForbidden
	case ErrTypeInvalid, ErrTypeUnknownUser:
		return policy.KindInvalid
	case ErrTypeConflict:
		return policy.KindConflict
	}
	return ""
}

// Workflow versions. The organisations change (bounded decisions, live
// authority) is Baton's baseline release: one code path, no workflow.GetVersion
// gates, histories in testdata/ regenerated by `make histories`. The next change
// to what a running claim does goes behind workflow.GetVersion with its change id
// declared here, and a saved history of the old code path in testdata/.

// WorkflowID returns the workflow id of a claim.
func WorkflowID(claimID string) string { return WorkflowIDPrefix + claimID }
