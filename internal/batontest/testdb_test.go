package batontest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// A schema handed to the next test is as a fresh one: the last test's rows
// gone, the seed rows back, identities restarted. A schema whose shape a test
// changed is not handed on.
func TestEachTestGetsAFreshSchema(t *testing.T) {
	ctx := context.Background()
	var first string
	var freshGen int64
	t.Run("writes", func(t *testing.T) {
		db := batontest.New(t)
		first = db.Name
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT generation FROM directory_stats`).Scan(&freshGen))
		d, err := yamlfile.ParseDirectory("d.yaml", []byte("users:\n  - {id: ann, name: Ann, email: ann@example.com}\n  - {id: bob, name: Bob, email: bob@example.com}\n"))
		require.NoError(t, err)
		_, err = db.Store.LoadDirectory(ctx, d)
		require.NoError(t, err)
		_, err = db.Pool.Exec(ctx, `UPDATE directory_stats SET generation = 99`)
		require.NoError(t, err)
	})
	t.Run("reads", func(t *testing.T) {
		db := batontest.New(t)
		require.Equal(t, first, db.Name, "the schema is reused")
		users, err := db.Store.UserList(ctx)
		require.NoError(t, err)
		require.Empty(t, users)
		var gen, n int64
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT generation, (SELECT count(*) FROM directory_stats) FROM directory_stats`).Scan(&gen, &n))
		require.Equal(t, []int64{freshGen, 1}, []int64{gen, n}, "the seed row is back as the migrations left it")
		d, err := yamlfile.ParseDirectory("d.yaml", []byte("users:\n  - {id: cat, name: Cat, email: cat@example.com}\n"))
		require.NoError(t, err)
		_, err = db.Store.LoadDirectory(ctx, d)
		require.NoError(t, err)
		var pos int64
		require.NoError(t, db.Pool.QueryRow(ctx, `SELECT position FROM users WHERE id = 'cat'`).Scan(&pos))
		require.Equal(t, int64(1), pos, "identities restart")
		_, err = db.Pool.Exec(ctx, `CREATE TABLE mine (id int)`)
		require.NoError(t, err)
	})
	t.Run("after a change of shape", func(t *testing.T) {
		db := batontest.New(t)
		require.NotEqual(t, first, db.Name, "a schema with a table of a test's own is dropped, not reused")
	})
}

// The row factories write what the real paths write: a decision makes its
// assignee hold the stage, and a return to the queue frees it.
func TestRowFactories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	sum := db.Load(t, []policy.User{batontest.User("ann", policy.PermMakeClaimDecisions), batontest.User("bob")},
		batontest.Team("desk", "bob", "ann"))
	require.Equal(t, 2, sum.Users)
	teams, err := db.Store.TeamList(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"bob", "ann"}, teams[0].Members, "in the order given")

	db.Decision(t, "C-1", policy.StageCapture, 1, "ann")
	w, err := db.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, 1, w.Open, "ann holds C-1's capture")
	db.Decision(t, "C-1", policy.StageCapture, 2, "")
	w, err = db.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Zero(t, w.Open, "back in the queue")
}
