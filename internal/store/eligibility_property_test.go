package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// Eligibility is written twice: in SQL (the Eligible fragment, which fills a
// requirement's members, and the directory changes that keep them current)
// and in Go (Requirement.Reject, which words the rule for one person). This
// test holds them together: over generated directories (permissions, tags and
// credentials in mixed case, roles, care teams, inactive people) and
// generated requirements, the members PostgreSQL holds for each requirement
// are exactly the people Reject passes, in directory order; and again after
// the directory is changed, through the incremental path that keeps live
// requirements' members current. A change to either side alone fails it.
func TestEligibilityInSQLEqualsReject(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 42))
		d := genDirectory(r, seed)
		_, err := db.Store.LoadDirectory(ctx, d)
		require.NoError(t, err, "seed %d", seed)
		reqs := make([]policy.Requirement, 12)
		for i := range reqs {
			reqs[i] = genRequirement(r)
		}
		for _, req := range reqs {
			requireSameEligible(t, db, d, req, fmt.Sprintf("seed %d, made", seed))
		}
		// Change about a third of the people and the teams, and look again:
		// the members are now kept by the directory change, not refilled.
		changed := genDirectory(r, seed)
		for i := range changed.Users {
			if r.IntN(3) > 0 {
				changed.Users[i] = d.Users[i]
			}
		}
		_, err = db.Store.LoadDirectory(ctx, changed)
		require.NoError(t, err, "seed %d", seed)
		for _, req := range reqs {
			requireSameEligible(t, db, changed, req, fmt.Sprintf("seed %d, after a change", seed))
		}
	}
}

// requireSameEligible compares, for req, the requirement's members in
// PostgreSQL with the users of d that Reject passes.
func requireSameEligible(t *testing.T, db *batontest.Schema, d *policy.Directory, req policy.Requirement, when string) {
	t.Helper()
	ctx := context.Background()
	teams := map[string][]string{}
	for _, tm := range d.Teams {
		teams[tm.ID] = tm.Members
	}
	var want []string
	for _, u := range d.Users {
		members, known := teams[req.CareTeam]
		if req.Reject(u.User, known, slices.Contains(members, u.ID)) == "" {
			want = append(want, u.ID)
		}
	}
	var set policy.EligibleSet
	var ref store.RequirementRef
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		people := qs.People()
		var err error
		set, err = people.Eligible(ctx, req, policy.SampleSize)
		ref = people.Ref(req)
		return err
	}))
	rows, err := db.Pool.Query(ctx, `SELECT m.user_id FROM requirement_members m
		WHERE m.requirement_id = $1 AND m.to_gen IS NULL ORDER BY m.position`, ref.ID)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		got = append(got, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, want, got, "%s: members of %+v", when, req)
	require.Equal(t, len(want), set.Count, "%s: count of %+v", when, req)
}

var (
	propPerms = []string{"P", "Q", "R"}
	propTags  = []string{"Gold", "silver", "ACME"}
	propState = []string{"CA", "ny", "TX"}
)

// some picks a random subset of xs, each in random case when mixed.
func some(r *rand.Rand, xs []string, mixed bool) []string {
	var out []string
	for _, x := range xs {
		if r.IntN(2) == 0 {
			continue
		}
		if mixed && r.IntN(2) == 0 {
			x = flipCase(x)
		}
		out = append(out, x)
	}
	return out
}

func flipCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

// genDirectory makes ten people and two teams (t1, t2) of some of them.
func genDirectory(r *rand.Rand, seed uint64) *policy.Directory {
	d := &policy.Directory{File: fmt.Sprintf("gen-%d.yaml", seed)}
	for i := range 10 {
		u := policy.User{ID: fmt.Sprintf("p%02d", i), Name: fmt.Sprintf("P %d", i), Email: fmt.Sprintf("p%d@example.com", i),
			Role: []string{"assessor", "nurse"}[r.IntN(2)], Active: r.IntN(5) > 0, Permissions: some(r, propPerms, false),
			Tags: some(r, propTags, true), Credentials: some(r, propState, true), EmailNotifications: true}
		d.Users = append(d.Users, policy.DirectoryUser{User: u, Line: i + 2})
	}
	for _, id := range []string{"t1", "t2"} {
		tm := policy.DirectoryTeam{Team: policy.Team{ID: id, Name: "Team " + id}}
		for _, u := range d.Users {
			if r.IntN(2) == 0 {
				tm.Members = append(tm.Members, u.ID)
				tm.MemberLines = append(tm.MemberLines, 0)
			}
		}
		d.Teams = append(d.Teams, tm)
	}
	return d
}

// genRequirement makes a stage's requirement with any of the filters, a claim
// state and care team (known, unknown or none), and now and then a role pool.
func genRequirement(r *rand.Rand) policy.Requirement {
	req := policy.Requirement{Stage: policy.StageCapture, Required: some(r, propPerms[:2], false)}
	if r.IntN(2) == 0 {
		req.Filter.TagsOneOf = some(r, propTags, true)
	}
	if r.IntN(3) == 0 {
		req.Filter.TagsAllOf = some(r, propTags, true)
	}
	req.Filter.StateCredential = r.IntN(3) == 0
	req.State = []string{"", "ca", "NY", "Tx", "WA"}[r.IntN(5)]
	req.Filter.CareTeam = r.IntN(3) == 0
	req.CareTeam = []string{"", "t1", "t2", "t9"}[r.IntN(4)]
	if r.IntN(6) == 0 {
		req.Roles = []string{"nurse"}
	}
	return req
}
