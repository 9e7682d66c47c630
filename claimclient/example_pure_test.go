package claimclient_test

import (
	"fmt"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// Claim ids become workflow ids and URL paths, so some characters are refused.
func ExampleValidateClaimID() {
	fmt.Println(claimclient.ValidateClaimID("C-1001"))
	fmt.Println(claimclient.ValidateClaimID("C 1001"))
	// Output:
	// <nil>
	// claim id "C 1001": no spaces, slashes, '?' or '#'
}

// The visibility query a queue listing runs; paste it into `temporal workflow
// list --query` or the Web UI.
func ExampleListFilter_Query() {
	f := claimclient.ListFilter{Queue: "intake", Status: workflows.StatusUnassigned,
		Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	fmt.Println(f.Query())
	// Output:
	// WorkflowType = 'ClaimWorkflow' AND ExecutionStatus = 'Running' AND BatonQueue = 'intake' AND BatonStatus = 'unassigned' AND StartTime >= '2026-11-01T00:00:00Z'
}

// The assignment-options body of the claim-assignment source, from a claim's state.
func ExampleOptionsFor() {
	state := workflows.ClaimState{ClaimID: "C-1001", Stage: policy.StageCapture, Assignee: "ava",
		Decisions: []policy.Decision{{Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: "ava",
			Candidates: []policy.Candidate{{UserID: "ava", Name: "Ava Moreau"}, {UserID: "ben", Name: "Ben Okafor"}}}}}
	opts, err := claimclient.OptionsFor(state, policy.StageCapture)
	fmt.Println(opts.AssignedTo.Name, len(opts.Users), err)
	_, err = claimclient.OptionsFor(state, policy.StageReview)
	fmt.Println(err)
	// Output:
	// Ava Moreau 2 <nil>
	// claim C-1001 is at capture: review stage not reached
}
