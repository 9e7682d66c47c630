package claimclient

import (
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// The contract's inputs and answers, so that a service starting and acting on
// claims imports claimclient alone.
type (
	ClaimInput             = workflows.ClaimInput
	AssignInput            = workflows.AssignInput
	CompleteInput          = workflows.CompleteInput
	ClaimStageInput        = workflows.ClaimStageInput
	UnassignInput          = workflows.UnassignInput
	StartReassignmentInput = workflows.StartReassignmentInput
	MigratePolicyInput     = workflows.MigratePolicyInput
	ClaimState             = workflows.ClaimState
	ClaimSummary           = workflows.ClaimSummary
	StageResult            = workflows.StageResult
	Reassignment           = workflows.Reassignment
	PolicyRef              = workflows.PolicyRef
	Decision               = policy.Decision
	Stage                  = policy.Stage
	Outcome                = policy.Outcome
)

// The stages.
const (
	StageCapture     = policy.StageCapture
	StageReview      = policy.StageReview
	StageAcknowledge = policy.StageAcknowledge
	StageFinalise    = policy.StageFinalise
)
