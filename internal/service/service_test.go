package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// setup loads amy (an admin who edits groups), zed and ann; the claim client
// is nil: nothing here reaches Temporal (every refusal comes first, and nobody
// holds a stage).
func setup(t *testing.T) (*service.Service, *batontest.Schema) {
	t.Helper()
	db := batontest.New(t)
	db.Load(t, []policy.User{
		batontest.User("amy", policy.PermAdmin, policy.PermManageReassignmentGroups),
		batontest.User("zed", policy.PermMakeClaimDecisions),
		batontest.User("ann", policy.PermMakeClaimDecisions),
	})
	return service.New(db.Store, nil, nil, nil), db
}

// Every use case asks who may act, in its own transaction, and a refusal
// changes nothing: the service is the one place the rules are asked outside
// the activities (store holds SQL only).
func TestEveryUseCaseAsksWhoMayAct(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := setup(t)

	_, err := svc.SetActive(ctx, "zed", "ann", false)
	require.ErrorIs(t, err, store.ErrForbidden)
	require.ErrorContains(t, err, "deactivate ann")
	u, err := db.Store.UserGet(ctx, "ann")
	require.NoError(t, err)
	require.True(t, u.Active, "a refused deactivation changes nothing")

	_, err = svc.SetStatus(ctx, "zed", "ann", policy.Away)
	require.ErrorIs(t, err, store.ErrForbidden)
	res, err := svc.SetStatus(ctx, "ann", "ann", policy.Away)
	require.NoError(t, err, "anyone sets their own status")
	require.Equal(t, policy.Available, res.Previous)

	now := time.Now()
	_, err = svc.AddAbsence(ctx, "zed", "ann", store.Absence{From: now.Add(time.Hour), Until: now.Add(2 * time.Hour)})
	require.ErrorIs(t, err, store.ErrForbidden)
	_, err = svc.AddAbsence(ctx, "amy", "ann", store.Absence{From: now.Add(time.Hour), Until: now.Add(2 * time.Hour)})
	require.NoError(t, err, "an admin records anyone's")
	abs, err := db.Store.Absences(ctx, "ann")
	require.NoError(t, err)
	require.Len(t, abs, 1)

	// Reactivating someone active is no change, and says so.
	act, err := svc.SetActive(ctx, "amy", "ann", true)
	require.NoError(t, err)
	require.True(t, act.Already)
}

// Groups: someone without ManageReassignmentGroups is refused before the
// document is read; a document that does not parse is invalid; an unknown
// member fails the whole apply with its file and line.
func TestApplyGroupsIsForTheGroupEditors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := setup(t)
	good := []byte("groups:\n  - {name: a, members: [zed], defaultAssignee: amy}\n")
	_, err := svc.ApplyGroups(ctx, "zed", "g.yaml", []byte("not: [a groups document"))
	require.ErrorIs(t, err, store.ErrForbidden, "refused before the document is read")
	_, err = svc.ApplyGroups(ctx, "amy", "g.yaml", []byte("not: [a groups document"))
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorIs(t, err, service.ErrUnreadable)
	require.ErrorContains(t, err, "g.yaml")
	n, err := svc.ApplyGroups(ctx, "amy", "g.yaml", good)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, err = svc.ApplyGroups(ctx, "amy", "g.yaml", []byte("groups:\n  - {name: b, members: [ghost], defaultAssignee: amy}\n"))
	var fe *policy.FieldError
	require.ErrorAs(t, err, &fe)
	require.EqualError(t, err, `g.yaml:2: groups[0].members[0]: unknown user "ghost"`)
	groups, err := db.Store.Groups(ctx)
	require.NoError(t, err)
	require.Len(t, groups, 1, "nothing of the failed apply is kept")
}

// A policy file is stored as a new version only when it changed and names no
// one the directory lacks; what changed is said against the version before.
// Testing one decides under it without writing anything.
func TestApplyAndTestAPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := setup(t)
	doc := "claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"

	res, err := svc.ApplyPolicy(ctx, "p.yaml", []byte(doc), "amy")
	require.NoError(t, err)
	require.Equal(t, service.PolicyApplied{Name: "default", Version: 1, Changed: true, First: true}, res)
	res, err = svc.ApplyPolicy(ctx, "p.yaml", []byte(doc), "amy")
	require.NoError(t, err)
	require.False(t, res.Changed, "the same file again is no new version")

	_, err = svc.ApplyPolicy(ctx, "p.yaml", []byte(doc+"  stages:\n    review: {defaultAssignee: ghost}\n"), "amy")
	require.ErrorContains(t, err, `p.yaml:5: claims.stages.review.defaultAssignee: unknown user "ghost"`)
	res, err = svc.ApplyPolicy(ctx, "p.yaml", []byte(doc+"  stages:\n    review: {defaultAssignee: zed}\n"), "amy")
	require.NoError(t, err)
	require.Equal(t, 2, res.Version, "the refused file stored nothing")
	require.Equal(t, []string{`~ claims.stages.review.defaultAssignee: (none) → "zed"`}, res.Changes)

	p, err := db.Store.PolicyLatest(ctx, "default")
	require.NoError(t, err)
	pol, err := p.Parse()
	require.NoError(t, err)
	got, err := svc.TestPolicy(ctx, "p.yaml", pol, []policy.SampleClaim{
		{Claim: policy.Claim{ID: "c1"}, Stages: []policy.Stage{policy.StageCapture}},
		{Claim: policy.Claim{ID: "c2"}, Stages: []policy.Stage{policy.StageCapture}},
	}, nil)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.ElementsMatch(t, []string{"zed", "ann"}, []string{got[0].Decision.Assignee, got[1].Decision.Assignee},
		"round robin over the live directory, in memory")
	var turns int
	require.NoError(t, db.Pool.QueryRow(ctx, "SELECT count(*) FROM rr_turns").Scan(&turns))
	require.Zero(t, turns, "a test writes no turn")
}
