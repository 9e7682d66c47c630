package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

func loadDir(t *testing.T, s *store.Store, doc string) (store.LoadSummary, error) {
	t.Helper()
	d, err := yamlfile.ParseDirectory("dir.yaml", []byte(doc))
	require.NoError(t, err)
	return s.LoadDirectory(context.Background(), d)
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	applied, err := store.Migrate(context.Background(), db.Pool, nil)
	require.NoError(t, err)
	require.Empty(t, applied, "a second run applies nothing")
}

func TestLoadDirectory(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	sum, err := loadDir(t, db.Store, `
users:
  - {id: zed, name: Zed, email: zed@example.com, permissions: [MakeClaimDecisions]}
  - {id: amy, name: Amy, email: amy@example.com, role: Admin, permissions: [Admin, MakeClaimDecisions]}
teams:
  - {id: t1, name: One, members: [zed, amy]}
`)
	require.NoError(t, err)
	require.Equal(t, store.LoadSummary{Users: 2, Teams: 1, Added: 2, TeamsChanged: 1}, sum)

	// Upsert: zed is edited and loses a permission; directory order stays as first loaded.
	edit := `
users:
  - {id: amy, name: Amy B, email: amy@example.com, permissions: [Admin]}
  - {id: zed, name: Zed, email: zed@example.com, active: false}
`
	sum, err = loadDir(t, db.Store, edit)
	require.NoError(t, err)
	require.Equal(t, store.LoadSummary{Users: 2, Changed: 2}, sum)
	// The same file again changes nothing.
	sum, err = loadDir(t, db.Store, edit)
	require.NoError(t, err)
	require.Equal(t, store.LoadSummary{Users: 2}, sum)
	users, err := db.Store.UserList(ctx)
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, "zed", users[0].ID, "order is the order first loaded")
	require.False(t, users[0].Active)
	require.Empty(t, users[0].Permissions)
	require.Equal(t, "Amy B", users[1].Name)
	require.Equal(t, []string{"Admin"}, users[1].Permissions)

	teams, err := db.Store.TeamList(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"zed", "amy"}, teams[0].Members)
}

func TestLoadDirectoryUnknownMemberLoadsNothing(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	_, err := loadDir(t, db.Store, `
users:
  - {id: amy, name: Amy, email: amy@example.com}
teams:
  - id: t1
    name: One
    members:
      - amy
      - ghost
`)
	require.EqualError(t, err, `dir.yaml:9: teams[0].members[1]: unknown user "ghost": not in this file or the directory`)
	users, err := db.Store.UserList(context.Background())
	require.NoError(t, err)
	require.Empty(t, users, "the whole load rolled back")
}

func TestTurnsConcurrentAreExact(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	dir, err := yamlfile.ParseDirectory("d.yaml", []byte(`users:
  - {id: a, name: A, email: a@x, permissions: [P]}
  - {id: b, name: B, email: b@x, permissions: [P]}
  - {id: c, name: C, email: c@x, permissions: [P]}
  - {id: d, name: D, email: d@x, permissions: [Q]}
`))
	require.NoError(t, err)
	_, err = db.Store.LoadDirectory(ctx, dir)
	require.NoError(t, err)
	req := policy.Requirement{Stage: policy.StageCapture, Required: []string{"P"}}
	const workers, each = 8, 15
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := db.Store.InTx(ctx, func(qs *store.Queries) error {
					v, err := qs.People().Turns(ctx, "scope", req, policy.TurnOrder{})
					if err != nil {
						return err
					}
					turn, ok := policy.NextTurn("scope", "round robin", v)
					require.True(t, ok)
					mu.Lock()
					counts[turn.User.ID]++
					mu.Unlock()
					return qs.TurnRecord(ctx, turn)
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, map[string]int{"a": 40, "b": 40, "c": 40}, counts, "d lacks P")
	served, err := db.Store.TurnCounts(ctx, "scope")
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"a": 40, "b": 40, "c": 40}, served)
}

func TestDecisionRecordOnce(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	db.Load(t, []policy.User{batontest.User("a"), batontest.User("b")})
	k := policy.DecisionKey{WorkflowID: "claim/c1", Stage: policy.StageReview, Seq: 2}
	_, err := db.Store.DecisionGet(ctx, k)
	require.True(t, errors.Is(err, store.ErrNotFound))

	first := policy.Decision{Seq: 2, Stage: policy.StageReview, Method: policy.MethodRoundRobin, Assignee: "a", Reason: "r", PolicyVersion: "v1"}
	// record writes d under k as the activities do, rolling back when the key
	// already holds a decision.
	errTaken := errors.New("taken")
	record := func(d policy.Decision) bool {
		err := db.Store.InTx(ctx, func(qs *store.Queries) error {
			ok, err := qs.DecisionRecord(ctx, store.DecisionWrite{Key: k, ClaimID: "c1", Decision: d,
				Event: store.TimelineEvent{WorkflowID: k.WorkflowID, ClaimID: "c1", Stage: k.Stage, Seq: k.Seq, Kind: policy.EventAssigned,
					Subject: d.Assignee, Reason: d.Reason}})
			if err == nil && !ok {
				err = errTaken
			}
			return err
		})
		if errors.Is(err, errTaken) {
			return false
		}
		require.NoError(t, err)
		return true
	}
	require.True(t, record(first))
	second := first
	second.Assignee = "b"
	require.False(t, record(second), "the key already holds a decision")

	got, err := db.Store.DecisionGet(ctx, k)
	require.NoError(t, err)
	require.Equal(t, "a", got.Assignee)
	all, err := db.Store.DecisionsByClaim(ctx, "c1")
	require.NoError(t, err)
	require.Len(t, all, 1)
}

func TestInbox(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	k := policy.DecisionKey{WorkflowID: "claim/c1", Stage: policy.StageCapture, Seq: 1}
	for i := 0; i < 2; i++ { // a retried decision notifies once
		require.NoError(t, db.Store.InboxAdd(ctx, k, "c1", "amy", "assigned", "http://x/claims/c1"))
	}
	items, err := db.Store.Inbox(ctx, "amy", false, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	ok, err := db.Store.InboxMarkRead(ctx, "amy", items[0].ID)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = db.Store.InboxMarkRead(ctx, "bob", items[0].ID)
	require.NoError(t, err)
	require.False(t, ok, "users cannot mark others' items")
	items, err = db.Store.Inbox(ctx, "amy", false, 10)
	require.NoError(t, err)
	require.Empty(t, items)
	items, err = db.Store.Inbox(ctx, "amy", true, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.NotNil(t, items[0].ReadAt)
}

func TestApplyGroupsAllOrNothing(t *testing.T) {
	t.Parallel()
	db := batontest.New(t)
	ctx := context.Background()
	_, err := loadDir(t, db.Store, `
users:
  - {id: amy, name: Amy, email: amy@example.com, permissions: [ManageReassignmentGroups]}
  - {id: zed, name: Zed, email: zed@example.com}
`)
	require.NoError(t, err)
	good, err := yamlfile.ParseGroups("g.yaml", []byte("groups:\n  - {name: a, members: [zed], defaultAssignee: amy}\n"))
	require.NoError(t, err)
	require.NoError(t, db.Store.ApplyGroups(ctx, "g.yaml", "amy", good))

	bad, err := yamlfile.ParseGroups("g.yaml", []byte("groups:\n  - {name: a, members: [amy], defaultAssignee: amy}\n  - name: b\n    defaultAssignee: amy\n    members:\n      - ghost\n"))
	require.NoError(t, err)
	require.EqualError(t, db.Store.ApplyGroups(ctx, "g.yaml", "amy", bad), `g.yaml:6: groups[1].members[0]: unknown user "ghost"`)
	groups, err := db.Store.Groups(ctx)
	require.NoError(t, err)
	require.Len(t, groups, 1)
	require.Equal(t, []string{"zed"}, groups[0].Members, "the failed apply changed nothing")
}

// A pool bounds what one statement and an abandoned transaction may hold,
// unless its URL says otherwise.
func TestPoolTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := batontest.URL(t)
	show := func(pool interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}, name string) string {
		var v string
		require.NoError(t, pool.QueryRow(ctx, "SHOW "+name).Scan(&v))
		return v
	}
	pool, err := store.NewPool(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	require.Equal(t, "2min", show(pool, "statement_timeout"))
	require.Equal(t, "1min", show(pool, "idle_in_transaction_session_timeout"))

	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	short, err := store.NewPool(ctx, url+sep+"statement_timeout=50")
	require.NoError(t, err)
	defer short.Close()
	require.Equal(t, "50ms", show(short, "statement_timeout"), "the URL decides")
	_, err = short.Exec(ctx, "SELECT pg_sleep(5)")
	require.ErrorContains(t, err, "canceling statement due to statement timeout")
}
