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

// Where a stage's assignment options are: the ledger key of the stage's decision
// (its candidates, which may be thousands, are read from the ledger page by page)
// and who is assigned.
func ExampleOptionsSource() {
	state := workflows.ClaimState{ClaimID: "C-1001", Stage: policy.StageCapture, Assignee: "ava",
		Decisions:      []policy.Decision{{Seq: 1, Stage: policy.StageCapture, Method: policy.MethodRoundRobin, Assignee: "ava", Eligible: 2}},
		StageDecisions: map[policy.Stage]int{policy.StageCapture: 1}}
	key, assignee, err := claimclient.OptionsSource(state, policy.StageCapture)
	fmt.Println(key.WorkflowID, key.Stage, key.Seq, assignee, err)
	_, _, err = claimclient.OptionsSource(state, policy.StageReview)
	fmt.Println(err)
	// Output:
	// claim/C-1001 capture 1 ava <nil>
	// claim C-1001 is at capture: review stage not reached
}
