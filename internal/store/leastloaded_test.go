package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// The turn orders read their picks from indexes the store keeps (of those in
// turn, by level or by load); the in-memory directory weighs everyone. On the
// same people, loads, limits and statuses, both must pick the same person for
// the same reason, decision after decision, until everyone is full and both
// leave the stage waiting with the same explanation: the indexes change how
// the answer is found, not the answer.
func TestTurnOrdersFromTheIndexAreTheSameAsWeighingEveryone(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"round_robin", "least_loaded"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			sameAsWeighingEveryone(t, method)
		})
	}
}

func sameAsWeighingEveryone(t *testing.T, method string) {
	ctx := context.Background()
	db := batontest.New(t)
	rng := rand.New(rand.NewPCG(7, 19))
	var doc strings.Builder
	doc.WriteString("users:\n")
	for i := range 40 {
		perms := "[MakeClaimDecisions]"
		if i%4 == 3 {
			perms = "[]"
		}
		fmt.Fprintf(&doc, "  - {id: u%02d, name: U%d, email: u%d@x, permissions: %s", i, i, i, perms)
		switch rng.IntN(20) {
		case 0, 1:
			doc.WriteString(", status: away")
		case 2:
			doc.WriteString(", status: offline")
		}
		total, capture := []int{0, 2, 3, 5}[rng.IntN(4)], []int{1, 2, 3}[rng.IntN(3)]
		var caps []string
		if total > 0 {
			caps = append(caps, fmt.Sprintf("total: %d", total))
		}
		if capture > 0 {
			caps = append(caps, fmt.Sprintf("capture: %d", capture))
		}
		if len(caps) > 0 {
			fmt.Fprintf(&doc, ", capacity: {%s}", strings.Join(caps, ", "))
		}
		doc.WriteString("}\n")
	}
	dir, err := yamlfile.ParseDirectory("d.yaml", []byte(doc.String()))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, dir)
	require.NoError(t, err)
	mem := &policy.MemDirectory{}
	for _, u := range dir.Users {
		if u.Status == "" {
			u.Status = policy.Available
		}
		mem.Users = append(mem.Users, u.User)
	}

	hold := func(workflow, user string, stage policy.Stage) {
		require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
			_, err := qs.DecisionRecord(ctx, store.DecisionWrite{
				Key: policy.DecisionKey{WorkflowID: workflow, Stage: stage, Seq: 1}, ClaimID: workflow,
				Decision: policy.Decision{Stage: stage, Method: policy.MethodAssign, Assignee: user, Reason: "held"},
				Event:    store.TimelineEvent{WorkflowID: workflow, ClaimID: workflow, Stage: stage, Seq: 1, Kind: policy.EventAssigned, Subject: user},
			})
			return err
		}))
		mem.OpenStage(user, stage)
	}
	for i := range 60 {
		stage := []policy.Stage{policy.StageCapture, policy.StageReview, policy.StageAcknowledge}[rng.IntN(3)]
		hold(fmt.Sprintf("held/%d", i), fmt.Sprintf("u%02d", rng.IntN(40)), stage)
	}

	p, err := yamlfile.ParsePolicy("p.yaml", []byte("claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: "+method+"\n"))
	require.NoError(t, err)
	waited := 0
	for i := range 120 {
		claim := policy.Claim{ID: fmt.Sprintf("c%02d", i)}
		want, wantEx, err := policy.Decide(ctx, policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: mem, Claim: claim})
		require.NoError(t, err)
		var got policy.Decision
		require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
			people := qs.People()
			d, ex, err := policy.Decide(ctx, policy.DecideInput{Policy: p, Stage: policy.StageCapture, People: people, Claim: claim})
			if err != nil {
				return err
			}
			got = d
			ref := people.Ref(ex.Requirement)
			ex.RequirementID, ex.Generation = ref.ID, ref.Generation
			_, err = qs.DecisionRecord(ctx, store.DecisionWrite{
				Key: policy.DecisionKey{WorkflowID: "claim/" + claim.ID, Stage: policy.StageCapture, Seq: 1}, ClaimID: claim.ID,
				Decision: d, Explanation: &ex,
				Event: store.TimelineEvent{WorkflowID: "claim/" + claim.ID, ClaimID: claim.ID, Stage: policy.StageCapture, Seq: 1,
					Kind: policy.EventAssigned, Subject: d.Assignee},
			})
			return err
		}))
		require.Equal(t, want.Assignee, got.Assignee, "decision %d", i)
		require.Equal(t, want.Reason, got.Reason, "decision %d", i)
		require.Equal(t, want.Backlog, got.Backlog, "decision %d", i)
		if got.Assignee == "" {
			waited++
		}
		if wantEx.Turn != nil {
			mem.Record(*wantEx.Turn)
		}
		if want.Assignee != "" {
			mem.OpenStage(want.Assignee, policy.StageCapture)
		}
	}
	require.Positive(t, waited, "the limits filled and stages waited")
	loadsMatch(t, db)
}
