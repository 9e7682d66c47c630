package batonfx

import "github.com/batonhq/baton/policy"

// The types a product module sees, so that one imports batonfx alone.
type (
	// ProductModule is custom assignment logic: the source's
	// getClaimAssignmentOptions(policy, claim, currentUser, stage). currentUser
	// is nil when the system decides a stage, and the caller when the
	// assignment-options endpoints or `starter options --as` ask.
	ProductModule = policy.ProductModule
	// AssignmentOptions is a module's answer: {assigned_to, users}.
	AssignmentOptions = policy.AssignmentOptions
	// Candidate is one user of an answer.
	Candidate = policy.Candidate
	// Policy is the policy version the claim runs on.
	Policy = policy.Policy
	// Claim is the claim being decided: id, owner and data.
	Claim = policy.Claim
	// User is a directory user.
	User = policy.User
	// Stage is capture, review or acknowledge.
	Stage = policy.Stage
	// Directory lists the directory's users.
	Directory = policy.UserLister
)

// The stages a module is asked about.
const (
	StageCapture     = policy.StageCapture
	StageReview      = policy.StageReview
	StageAcknowledge = policy.StageAcknowledge
)

// CandidateOf presents a directory user as a module answer's candidate.
var CandidateOf = policy.CandidateOf
