package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

// limitedDirectory: three assessors who may hold three open stages each.
const limitedDirectory = `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions], capacity: {total: 3}}
  - {id: bob, name: Bob Ng, email: bob@example.com, permissions: [MakeClaimDecisions], capacity: {total: 3}}
  - {id: cat, name: Cat Roy, email: cat@example.com, permissions: [MakeClaimDecisions], capacity: {total: 3}}
  - {id: root, name: Root Admin, email: root@example.com, permissions: [Admin]}
`

// A full person is never given more. Capture runs round robin and review least
// loaded: two turn scopes, decided concurrently by two workers for four
// starters, each competing for the same people's last slots.
func TestFullPeopleAreNeverGivenMore(t *testing.T) {
	t.Parallel()
	p := pol(policy.MethodRoundRobin, true)
	p.Stages[policy.StageReview] = policy.StageConfig{Method: policy.MethodLeastLoaded}
	b := testenv.Start(t, p, limitedDirectory)
	b.AddWorker()
	ctx := context.Background()
	const claims, starters = 16, 4
	var next atomic.Int64
	var queued atomic.Int64
	var wg sync.WaitGroup
	for range starters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1))
				if n > claims {
					return
				}
				id := b.ClaimID(n)
				if _, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id}); err != nil {
					t.Error(err)
					return
				}
				s := waitDecided(t, b, id, policy.StageCapture)
				if s.Assignee == "" {
					queued.Add(1)
					continue
				}
				if _, err := b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: s.Assignee}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	for n := 1; n <= claims; n++ {
		if s, err := b.Claims.State(ctx, b.ClaimID(n)); err == nil && s.Stage == policy.StageReview {
			waitDecided(t, b, b.ClaimID(n), policy.StageReview)
		}
	}
	total := 0
	for _, id := range []string{"ann", "bob", "cat"} {
		w, err := b.DB.Store.UserWorkload(ctx, id)
		require.NoError(t, err)
		require.LessOrEqual(t, w.Open, 3, "%s holds %d open stages, over the limit of 3", id, w.Open)
		total += w.Open
	}
	require.Equal(t, 9, total, "16 claims fill every slot")
	require.Positive(t, queued.Load(), "some captures found everyone full")

	// The queued ones say why.
	var reason string
	for n := 1; n <= claims && reason == ""; n++ {
		s, err := b.Claims.State(ctx, b.ClaimID(n))
		require.NoError(t, err)
		if s.Assignee == "" && len(s.Decisions) > 0 {
			reason = s.Decisions[len(s.Decisions)-1].Reason
		}
	}
	require.Contains(t, reason, "everyone eligible was passed over")
	require.Contains(t, reason, "at capacity: 3 of 3 open stages")
}

// An away person gets nothing automatic; once back, they take turns again,
// without a run of catch-up turns.
func TestAwayPeopleGetNothingAutomatic(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	_, _, err := b.DB.Store.UserStatusSet(ctx, "ann", policy.Away)
	require.NoError(t, err)
	var picks []string
	decideOne := func(n int) workflows.ClaimState {
		id := b.ClaimID(n)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
		require.NoError(t, err)
		s := waitDecided(t, b, id, policy.StageCapture)
		picks = append(picks, s.Assignee)
		return s
	}
	for n := 1; n <= 4; n++ {
		decideOne(n)
	}
	require.Equal(t, []string{"bob", "cat", "bob", "cat"}, picks)
	s, err := b.Claims.State(ctx, b.ClaimID(1))
	require.NoError(t, err)
	require.Contains(t, s.Decisions[0].Reason, "passed over ann (away)")

	_, _, err = b.DB.Store.UserStatusSet(ctx, "ann", policy.Available)
	require.NoError(t, err)
	picks = nil
	for n := 5; n <= 10; n++ {
		decideOne(n)
	}
	require.Equal(t, []string{"ann", "bob", "cat", "ann", "bob", "cat"}, picks, "ann resumes with the others, not four turns in a row")
}

// A person's assignment may go to someone away, with a warning, and past a
// limit only by override, which the decision records.
func TestManualAssignmentWarnsAndNeedsOverride(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodManual, true), `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions], capacity: {capture: 1}}
  - {id: bob, name: Bob Ng, email: bob@example.com, permissions: [MakeClaimDecisions], status: away}
  - {id: root, name: Root Admin, email: root@example.com, permissions: [Admin]}
`)
	ctx := context.Background()
	for n := 1; n <= 3; n++ {
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: b.ClaimID(n)})
		require.NoError(t, err)
		waitDecided(t, b, b.ClaimID(n), policy.StageCapture)
	}
	d, err := b.Claims.Assign(ctx, b.ClaimID(1), workflows.AssignInput{Actor: "root", UserID: "ann"})
	require.NoError(t, err)
	require.Empty(t, d.Warning)

	_, err = b.Claims.Assign(ctx, b.ClaimID(2), workflows.AssignInput{Actor: "root", UserID: "ann"})
	require.True(t, claimclient.IsConflict(err), "%v", err)
	require.ErrorContains(t, err, `"root" may not give capture of claim `+b.ClaimID(2)+` to "ann": ann is at capacity: 1 of 1 open capture stages; set override to assign past the limit`)
	s, err := b.Claims.State(ctx, b.ClaimID(2))
	require.NoError(t, err)
	require.Empty(t, s.Assignee, "a refusal changes nothing")

	d, err = b.Claims.Assign(ctx, b.ClaimID(2), workflows.AssignInput{Actor: "root", UserID: "ann", Override: true})
	require.NoError(t, err)
	require.Equal(t, "past ann's limit by override (at capacity: 1 of 1 open capture stages)", d.Warning)
	require.Contains(t, d.Reason, "by override")

	d, err = b.Claims.Assign(ctx, b.ClaimID(3), workflows.AssignInput{Actor: "root", UserID: "bob"})
	require.NoError(t, err)
	require.Equal(t, "bob is away", d.Warning)
	events, err := b.DB.Store.Timeline(ctx, b.ClaimID(3))
	require.NoError(t, err)
	last := events[len(events)-1]
	require.True(t, strings.HasSuffix(last.Reason, "(bob is away)"), fmt.Sprint(last))

	// Completing frees the slot.
	w, err := b.DB.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, 2, w.OpenByStage[policy.StageCapture])
	_, err = b.Claims.Complete(ctx, b.ClaimID(1), workflows.CompleteInput{Actor: "ann"})
	require.NoError(t, err)
	w, err = b.DB.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, 1, w.OpenByStage[policy.StageCapture])
}

// Four eyes holds on every path: the stage's own decision, an admin's
// assignment and a person claiming it.
func TestFourEyesOnEveryPath(t *testing.T) {
	t.Parallel()
	p := pol(policy.MethodRoundRobin, true)
	p.Stages[policy.StageReview] = policy.StageConfig{ExcludeActorsOf: []policy.Stage{policy.StageCapture}}
	b := testenv.Start(t, p, directory)
	ctx := context.Background()
	id := b.ClaimID(1)
	_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
	require.NoError(t, err)
	s := waitDecided(t, b, id, policy.StageCapture)
	require.Equal(t, "ann", s.Assignee)
	_, err = b.Claims.Complete(ctx, id, workflows.CompleteInput{Actor: "ann"})
	require.NoError(t, err)

	s = waitDecided(t, b, id, policy.StageReview)
	require.Equal(t, "bob", s.Assignee, "it is ann's turn at review, but she captured this claim")
	last := s.Decisions[len(s.Decisions)-1]
	require.Equal(t, []string{"ann"}, last.FourEyes)
	require.Contains(t, last.Reason, "passed over ann (four eyes: acted on capture of this claim)")

	_, err = b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "ann"})
	require.True(t, claimclient.IsForbidden(err), "%v", err)
	require.ErrorContains(t, err, `"ann" may not take review of claim `+id+`: four eyes`)

	_, err = b.Claims.Unassign(ctx, id, workflows.UnassignInput{Actor: "bob"})
	require.NoError(t, err)
	_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "ann"})
	require.True(t, claimclient.IsForbidden(err), "%v", err)
	s, err = b.Claims.State(ctx, id)
	require.NoError(t, err)
	require.Empty(t, s.Assignee, "the refusals changed nothing")
	_, err = b.Claims.Claim(ctx, id, workflows.ClaimStageInput{Actor: "cat"})
	require.NoError(t, err)
}

// drainPolicy: capture by a distribution rule that sets the claim's priority
// and gives it to team desk (only ann, who holds one stage at a time); review
// waits in its queue, so only the backlog competes for ann's slot.
const drainPolicy = `
version: drain-1
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  distribution:
    rules:
      - id: urgent
        when: [{attribute: urgency, operator: IN, values: [high]}]
        then: [{action: set_priority, priority: High}, {action: assign_team, team: desk}]
      - id: routine
        when: [{attribute: urgency, operator: IN, values: [low]}]
        then: [{action: set_priority, priority: Low}, {action: assign_team, team: desk}]
  stages:
    review:
      method: manual
`

// A freed slot goes to exactly the highest-priority, oldest waiting claim.
func TestAFreedSlotTakesTheHighestPriorityOldestWaiting(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("drain.yaml", []byte(drainPolicy))
	require.NoError(t, err)
	b := testenv.Start(t, p, `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions], capacity: {total: 1}}
teams:
  - {id: desk, name: Desk, members: [ann]}
`)
	ctx := context.Background()
	start := func(n int, urgency string) workflows.ClaimState {
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: b.ClaimID(n), Data: map[string]string{"urgency": urgency}})
		require.NoError(t, err)
		return waitDecided(t, b, b.ClaimID(n), policy.StageCapture)
	}
	require.Equal(t, "ann", start(1, "low").Assignee)
	waiting := start(2, "low")
	require.Empty(t, waiting.Assignee)
	require.True(t, waiting.Decisions[len(waiting.Decisions)-1].Backlog, "ann is full: the stage joins the backlog")
	require.Empty(t, start(3, "high").Assignee)
	require.Empty(t, start(4, "high").Assignee)

	assignee := func(n int) string {
		s, err := b.Claims.State(ctx, b.ClaimID(n))
		require.NoError(t, err)
		return s.Assignee
	}
	complete := func(n int, next int) {
		t.Helper()
		_, err := b.Claims.Complete(ctx, b.ClaimID(n), workflows.CompleteInput{Actor: "ann"})
		require.NoError(t, err)
		batontest.Eventually(t, 30*time.Second, func() (bool, string) {
			return assignee(next) == "ann", fmt.Sprintf("claim %d: %q", next, assignee(next))
		})
	}
	complete(1, 3) // High before Low, and 3 is older than 4
	require.Empty(t, assignee(2))
	require.Empty(t, assignee(4))
	complete(3, 4)
	require.Empty(t, assignee(2))
	complete(4, 2)

	// Returning a stage to its queue frees a slot too.
	require.Empty(t, start(5, "high").Assignee)
	_, err = b.Claims.Unassign(ctx, b.ClaimID(2), workflows.UnassignInput{Actor: "ann"})
	require.NoError(t, err)
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		return assignee(5) == "ann", fmt.Sprintf("claim 5: %q", assignee(5))
	})
	require.Empty(t, assignee(2), "the returned stage waits in its queue")

	// Each waiting claim was decided twice at capture: queued, then given.
	for _, n := range []int{2, 3, 4} {
		s, err := b.Claims.State(ctx, b.ClaimID(n))
		require.NoError(t, err)
		var capture []policy.Decision
		for _, d := range s.Decisions {
			if d.Stage == policy.StageCapture && workflows.IsStageDecision(d.Method) {
				capture = append(capture, d)
			}
		}
		require.Len(t, capture, 2, "claim %d", n)
		require.Equal(t, "ann", capture[1].Assignee)
	}
}

// An away person gets nothing automatic; when they come back, the work that
// waited for them is handed out, each claim once.
func TestTheBacklogDrainsWhenSomeoneComesBack(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), `
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, permissions: [MakeClaimDecisions], status: away}
  - {id: root, name: Root Admin, email: root@example.com, permissions: [Admin]}
`)
	ctx := context.Background()
	for n := 1; n <= 3; n++ {
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: b.ClaimID(n)})
		require.NoError(t, err)
		s := waitDecided(t, b, b.ClaimID(n), policy.StageCapture)
		require.Empty(t, s.Assignee)
		require.Contains(t, s.Decisions[len(s.Decisions)-1].Reason, "passed over: ann (away)")
	}
	_, drain, err := b.DB.Store.UserStatusSet(ctx, "ann", policy.Available)
	require.NoError(t, err)
	require.Len(t, drain, 3)
	require.NoError(t, b.Claims.DecideAgain(ctx, drain))
	require.NoError(t, b.Claims.DecideAgain(ctx, drain), "a second nudge changes nothing")
	for n := 1; n <= 3; n++ {
		batontest.Eventually(t, 30*time.Second, func() (bool, string) {
			s, err := b.Claims.State(ctx, b.ClaimID(n))
			if err != nil {
				return false, err.Error()
			}
			return s.Assignee == "ann" && s.Status == workflows.StatusAssigned, s.Status
		})
	}
	counts, err := b.DB.Store.AssignmentCounts(ctx, policy.StageCapture, policy.MethodRoundRobin)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"ann": 3}, counts, "each claim given once")
}

// Deactivating someone re-routes every stage they hold through each claim's own
// policy and method, exactly once: the command repeated, the nudges doubled and
// the person reactivated midway move nothing twice and give nothing back.
func TestDeactivatingSomeoneMovesEachOpenStageOnce(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	b.AddWorker()
	ctx := context.Background()
	const claims = 30
	annHolds(t, b, claims)
	w, err := b.DB.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, claims, w.Open)

	held, changed, err := b.DB.Store.UserActiveSet(ctx, "ann", false)
	require.NoError(t, err)
	require.True(t, changed)
	require.Len(t, held, claims)
	require.NoError(t, b.Claims.Redistribute(ctx, held, "ann", "ann was deactivated"))
	// The command again, before and after she is briefly reactivated.
	again, changed, err := b.DB.Store.UserActiveSet(ctx, "ann", false)
	require.NoError(t, err)
	require.False(t, changed, "a repeated deactivation says it was already done")
	require.NoError(t, b.Claims.Redistribute(ctx, again, "ann", "ann was deactivated"))
	_, _, err = b.DB.Store.UserActiveSet(ctx, "ann", true)
	require.NoError(t, err)
	require.NoError(t, b.Claims.Redistribute(ctx, held, "ann", "ann was deactivated"))

	batontest.Eventually(t, time.Minute, func() (bool, string) {
		w, err := b.DB.Store.UserWorkload(ctx, "ann")
		require.NoError(t, err)
		return w.Open == 0, fmt.Sprintf("ann still holds %d", w.Open)
	})
	got := map[string]int{}
	for n := 1; n <= claims; n++ {
		var s workflows.ClaimState
		batontest.Eventually(t, 30*time.Second, func() (bool, string) {
			s, err = b.Claims.State(ctx, b.ClaimID(n))
			require.NoError(t, err)
			return s.Assignee != "ann" && s.Status == workflows.StatusAssigned, s.Assignee
		})
		moved := 0
		for _, d := range s.Decisions {
			if strings.HasPrefix(d.Reason, "ann was deactivated; ") {
				moved++
			}
		}
		require.Equal(t, 1, moved, "claim %d moved %d times", n, moved)
		got[s.Assignee]++
	}
	require.Equal(t, map[string]int{"bob": 15, "cat": 15}, got, "round robin over who is left, and nothing back to ann")
}

// During an absence a person is away and their turns' work goes to their
// delegate; a chain of delegates that loops is reported, not followed forever.
func TestAbsenceSendsNewWorkToTheDelegate(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(t, b.DB.Store.AbsenceAdd(ctx, "ann", "ann", store.Absence{From: now.Add(-time.Minute), Until: now.Add(time.Hour), Delegate: "bob"}))
	w, err := b.DB.Store.UserWorkload(ctx, "ann")
	require.NoError(t, err)
	require.Equal(t, policy.Away, w.Status, "away during the absence whatever status she set")

	decide := func(n int) workflows.ClaimState {
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: b.ClaimID(n)})
		require.NoError(t, err)
		return waitDecided(t, b, b.ClaimID(n), policy.StageCapture)
	}
	s := decide(1)
	require.Equal(t, "bob", s.Assignee)
	require.Contains(t, s.Decisions[0].Reason, "ann is away: delegated ann → bob")

	// bob goes away too, delegating back to ann: the loop is named and both are passed over.
	require.NoError(t, b.DB.Store.AbsenceAdd(ctx, "root", "bob", store.Absence{From: now.Add(-time.Minute), Until: now.Add(time.Hour), Delegate: "ann"}))
	s = decide(2)
	require.Equal(t, "cat", s.Assignee)
	require.Contains(t, s.Decisions[0].Reason, "delegate chain")
	require.Contains(t, s.Decisions[0].Reason, "loops")

	// Bad absences change nothing and say why.
	err = b.DB.Store.AbsenceAdd(ctx, "cat", "cat", store.Absence{From: now, Until: now.Add(-time.Hour)})
	require.ErrorContains(t, err, "until")
	err = b.DB.Store.AbsenceAdd(ctx, "cat", "cat", store.Absence{From: now, Until: now.Add(time.Hour), Delegate: "nobody"})
	require.ErrorContains(t, err, `delegate "nobody" is not in the directory`)
	err = b.DB.Store.AbsenceAdd(ctx, "cat", "cat", store.Absence{From: now, Until: now.Add(time.Hour), Delegate: "old"})
	require.ErrorIs(t, err, store.ErrInvalid)
	require.ErrorContains(t, err, `delegate "old" is deactivated`, "their work would go to someone who can take none")
	_, err = service.New(b.DB.Store, b.Claims, nil, nil).AddAbsence(ctx, "cat", "dan", store.Absence{From: now, Until: now.Add(time.Hour)})
	require.ErrorIs(t, err, store.ErrForbidden, "only an admin records someone else's absence")
}

// When an absence starts, a stage whose policy says onAbsence: redistribute
// moves off the absent person, once; a stage that keeps open work stays.
func TestAbsenceStartRedistributesWhereThePolicySays(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("absence.yaml", []byte(`
version: absence-1
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    capture:
      onAbsence: redistribute
`))
	require.NoError(t, err)
	b := testenv.Start(t, p, directory)
	ctx := context.Background()
	start := func(n int) string {
		id := b.ClaimID(n)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
		require.NoError(t, err)
		if s := waitDecided(t, b, id, policy.StageCapture); s.Assignee != "ann" {
			_, err := b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "ann"})
			require.NoError(t, err)
		}
		return id
	}
	atCapture := start(1)
	atReview := start(2)
	_, err = b.Claims.Complete(ctx, atReview, workflows.CompleteInput{Actor: "ann"})
	require.NoError(t, err)
	if s := waitDecided(t, b, atReview, policy.StageReview); s.Assignee != "ann" {
		_, err := b.Claims.Assign(ctx, atReview, workflows.AssignInput{Actor: "root", UserID: "ann"})
		require.NoError(t, err)
	}

	now := time.Now().UTC()
	require.NoError(t, b.DB.Store.AbsenceAdd(ctx, "ann", "ann", store.Absence{From: now.Add(-time.Second), Until: now.Add(time.Hour)}))
	n, err := b.DB.Store.StartAbsences(ctx, b.Claims.RedistributeAbsent)
	require.NoError(t, err)
	require.Equal(t, 2, n, "both claims are told")
	n, err = b.DB.Store.StartAbsences(ctx, b.Claims.RedistributeAbsent)
	require.NoError(t, err)
	require.Zero(t, n, "an absence's start is acted on once")

	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		s, err := b.Claims.State(ctx, atCapture)
		require.NoError(t, err)
		return s.Assignee != "ann" && s.Assignee != "", s.Assignee
	})
	s, err := b.Claims.State(ctx, atCapture)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s.Decisions[len(s.Decisions)-1].Reason, "ann is away until "), s.Decisions[len(s.Decisions)-1].Reason)
	s, err = b.Claims.State(ctx, atReview)
	require.NoError(t, err)
	require.Equal(t, "ann", s.Assignee, "review keeps open work with someone absent")
}

// A leaver in the directory file (active: false, as an hourly HR export says
// it) is a deactivation: the stages they hold are decided again without them,
// once, and loading the same file again moves nothing.
func TestADirectoryLoadThatDeactivatesSomeoneMovesWhatTheyHold(t *testing.T) {
	t.Parallel()
	b := testenv.Start(t, pol(policy.MethodRoundRobin, true), directory)
	ctx := context.Background()
	const claims = 3
	annHolds(t, b, claims)
	leaves := strings.Replace(directory, "permissions: [MakeClaimDecisions]}\n  - {id: bob", "active: false, permissions: [MakeClaimDecisions]}\n  - {id: bob", 1)
	require.NotEqual(t, directory, leaves)
	d, err := yamlfile.ParseDirectory("hr.yaml", []byte(leaves))
	require.NoError(t, err)
	svc := service.New(b.DB.Store, b.Claims, nil, nil)
	sum, err := svc.LoadDirectory(ctx, d)
	require.NoError(t, err)
	require.Len(t, sum.Left, 1)
	require.Equal(t, "ann", sum.Left[0].User)
	require.Len(t, sum.Left[0].Held, claims)

	for n := 1; n <= claims; n++ {
		batontest.Eventually(t, 30*time.Second, func() (bool, string) {
			s, err := b.Claims.State(ctx, b.ClaimID(n))
			require.NoError(t, err)
			return s.Assignee != "ann" && s.Status == workflows.StatusAssigned, s.Assignee
		})
	}
	again, err := svc.LoadDirectory(ctx, d)
	require.NoError(t, err)
	require.Empty(t, again.Left, "the same file again: nobody left")
	for n := 1; n <= claims; n++ {
		s, err := b.Claims.State(ctx, b.ClaimID(n))
		require.NoError(t, err)
		moved := 0
		for _, dec := range s.Decisions {
			if strings.HasPrefix(dec.Reason, "ann was deactivated; ") {
				moved++
			}
		}
		require.Equal(t, 1, moved, "claim %d moved once", n)
	}
}

// annHolds starts claims 1 to n and makes ann hold each one's capture: round
// robin gives her some, root assigns her the rest.
func annHolds(t *testing.T, b *testenv.Baton, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		id := b.ClaimID(i)
		_, err := b.Claims.Start(ctx, workflows.ClaimInput{ClaimID: id})
		require.NoError(t, err)
		if s := waitDecided(t, b, id, policy.StageCapture); s.Assignee != "ann" {
			_, err := b.Claims.Assign(ctx, id, workflows.AssignInput{Actor: "root", UserID: "ann", Comment: "ann takes these"})
			require.NoError(t, err)
		}
	}
}
