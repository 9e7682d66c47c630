package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// loadDirectory replaces the directory, as an operator's starter directory load
// does.
func loadDirectory(t *testing.T, b *testenv.Baton, doc string) {
	t.Helper()
	d, err := yamlfile.ParseDirectory("directory.yaml", []byte(doc))
	require.NoError(t, err)
	_, err = b.DB.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
}

// ledgerSnapshot is what a refused action must not change: the claim's state and
// its rows in the ledger.
func ledgerSnapshot(t *testing.T, b *testenv.Baton, id string) (workflows.ClaimState, int) {
	t.Helper()
	s, err := b.Claims.State(context.Background(), id)
	require.NoError(t, err)
	ds, err := b.DB.Store.DecisionsByClaim(context.Background(), id)
	require.NoError(t, err)
	return s, len(ds)
}

func requireRefused(t *testing.T, b *testenv.Baton, id string, err error, kind, want string) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, err.Error(), want)
	require.Contains(t, err.Error(), kind)
}

// Authority is live: deactivating a user or removing Admin takes effect on a
// claim decided before the change, and nothing is recorded for the refused act.
func TestAuthorityIsReadWhenTheActIsRecorded(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodManual, true), directory+
		"  - {id: gus, name: Gus Lam, email: gus@example.com, role: Admin, permissions: [Admin]}\n")
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	waitDecided(t, b, id, policy.StageCapture)

	// ann was a candidate when capture was decided; she is deactivated.
	loadDirectory(t, b, strings.Replace(directory, "{id: ann, name: Ann Lee,", "{id: ann, active: false, name: Ann Lee,", 1))
	before, rows := ledgerSnapshot(t, b, id)
	_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `"ann" may not claim capture of claim `+id+`: user "ann" is inactive`)
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "ann"})
	requireRefused(t, b, id, err, workflows.ErrTypeUnknownUser, `user "ann" is inactive since capture of claim `+id+` was decided`)
	after, n := ledgerSnapshot(t, b, id)
	require.Equal(t, before, after, "state unchanged")
	require.Equal(t, rows, n, "nothing in the ledger")

	// root assigns bob; then root loses Admin and may no longer reassign.
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "bob"})
	require.NoError(t, err)
	loadDirectory(t, b, strings.Replace(directory, "permissions: [Admin]", "permissions: []", 1))
	before, rows = ledgerSnapshot(t, b, id)
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "cat"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `"root" may not reassign capture of claim `+id+`: only the assignee (bob), admins and the owner may`)
	_, err = b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: "root"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `"root" may not unassign capture`)
	_, err = b.Claims.StartReassignment(ctx, id, workflows.StartReassignmentInput{Actor: "root", Group: "seniors"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `"root" may not send capture of claim `+id+` to a reassignment group`)

	// bob, the assignee, is deactivated: he may neither complete nor reassign;
	// an admin (gus) may still reassign the stage.
	loadDirectory(t, b, strings.Replace(directory, "{id: bob, name: Bob Ng,", "{id: bob, active: false, name: Bob Ng,", 1))
	_, err = b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "bob"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `"bob" may not complete capture of claim `+id+`: user "bob" is inactive`)
	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "bob", UserID: "cat"})
	requireRefused(t, b, id, err, workflows.ErrTypeForbidden, `user "bob" is inactive`)
	after, n = ledgerSnapshot(t, b, id)
	require.Equal(t, before, after, "state unchanged")
	require.Equal(t, rows, n, "nothing in the ledger")

	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "gus", UserID: "cat", Comment: "bob left"})
	require.NoError(t, err, "an admin reassigns a deactivated assignee's stage")
	complete(t, b, id, "cat", policy.StageCapture)
}
