package batonfx

import "github.com/batonhq/baton/policy"

// The types a product module sees, so that one imports batonfx alone.
type (
	// ProductModule is custom assignment logic: the source's
	// getClaimAssignmentOptions(policy, claim, currentUser, stage). currentUser
	// is nil when the system decides a stage, and the caller when the
	// assignment-options endpoints or `starter options --as` ask.
	ProductModule = policy.ProductModule
	// AssignmentOptions is a module's answer: {assigned_to, users}, or
	// {assigned_to, pool} naming its candidates by a query.
	AssignmentOptions = policy.AssignmentOptions
	// UserQuery selects active users by role, permissions and tags: a pool,
	// or a page of the directory.
	UserQuery = policy.UserQuery
	// UserPage is a page of users and where the next starts.
	UserPage = policy.UserPage
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
	// Directory is the directory as a module reads it: users matching a
	// query a page at a time, or users by id; never the whole directory.
	Directory = policy.ModuleDirectory
)

// CandidateOf presents a directory user as a module answer's candidate.
var CandidateOf = policy.CandidateOf
