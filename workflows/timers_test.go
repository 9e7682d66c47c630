package workflows_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/workflows"
)

// windowPolicy leaves capture in the intake queue for an hour, then gives it to root.
func windowPolicy(t *testing.T, extra string) *policy.Policy {
	p, err := yamlfile.ParsePolicy("p.yaml", []byte(`
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: manual
`+extra+`
  stages:
    capture: {queue: intake, claimWindow: 1h, defaultAssignee: root}
`))
	require.NoError(t, err)
	return p
}

func claimAs(h *harness, actor string, check func(error)) {
	h.send(workflows.UpdateClaim, workflows.ClaimStageInput{Actor: actor}, check)
}

func lastDecision(s workflows.ClaimState) policy.Decision { return s.Decisions[len(s.Decisions)-1] }

func TestClaimWindowFallsBackToDefaultAssignee(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	h.at(59*time.Minute, func() {
		s := h.state()
		require.Equal(t, workflows.StatusUnassigned, s.Status)
		require.Equal(t, "intake", s.Queue)
		require.Empty(t, h.acts.kinds(), "nothing has expired yet")
	})
	h.at(61*time.Minute, func() {
		s := h.state()
		require.Equal(t, "root", s.Assignee)
		d := lastDecision(s)
		require.Equal(t, policy.MethodDefaultAssignee, d.Method)
		require.Equal(t, "nobody claimed capture within the claim window of 1h0m0s; default assignee root", d.Reason)
		require.Equal(t, []string{policy.EventWindowExpired}, h.acts.kinds())
	})
	h.complete("root", "", ok(t))
	h.start("")
	require.Equal(t, policy.StageReview, h.state().Stage)
}

// A claim window that runs out while the database is down gives the stage to
// its default assignee once the database is back, however long that takes:
// the fallback is retried, not dropped after the ten seconds a local activity
// gets by default. A person's assignment in the same outage gets an answer
// within half a minute instead, and changes nothing.
func TestClaimWindowFallbackOutlastsADatabaseOutage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	h.at(59*time.Minute, func() { h.acts.down = 12 }) // about 20 minutes of retries
	h.at(62*time.Minute, func() {
		s := h.state()
		require.Equal(t, workflows.StatusUnassigned, s.Status, "nothing could be written yet")
		require.Empty(t, h.acts.kinds())
	})
	h.at(90*time.Minute, func() {
		s := h.state()
		require.Equal(t, "root", s.Assignee, "the fallback landed once the database answered")
		require.Equal(t, policy.MethodDefaultAssignee, lastDecision(s).Method)
		require.Equal(t, []string{policy.EventWindowExpired}, h.acts.kinds(), "recorded once")
		require.Zero(t, h.acts.down)
		h.acts.down = 1000
	})
	h.assign("root", "ann", func(err error) {
		require.ErrorContains(t, err, "connection refused", "the person is told it failed")
	})
	h.then(func() {
		h.acts.down = 0
		require.Equal(t, "root", h.state().Assignee, "and nothing changed")
	})
	h.start("")
}

// A window whose default assignee has left still says, in the timeline, that
// it ran out; the stage stays in its queue for a person to take.
func TestClaimWindowWhoseDefaultAssigneeLeftStillSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	h.at(30*time.Minute, func() {
		h.acts.users = slices.Clone(h.acts.users)
		i := slices.IndexFunc(h.acts.users, func(u policy.User) bool { return u.ID == "root" })
		h.acts.users[i].Active = false
	})
	h.at(61*time.Minute, func() {
		s := h.state()
		require.Equal(t, workflows.StatusUnassigned, s.Status)
		require.Equal(t, "intake", s.Queue)
		require.Equal(t, []string{policy.EventWindowExpired}, h.acts.kinds())
		require.Len(t, h.acts.record, 1, "one attempt: a refusal is not retried")
	})
	h.start("")
}

func TestClaimJustBeforeWindowClosesWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	h.at(time.Hour-time.Second, func() { claimAs(h, "ann", ok(t)) })
	h.at(2*time.Hour, func() {
		s := h.state()
		require.Equal(t, "ann", s.Assignee)
		require.Equal(t, policy.MethodClaim, lastDecision(s).Method)
		require.Equal(t, "claimed by ann from queue intake", lastDecision(s).Reason)
		require.Empty(t, h.acts.kinds(), "the window was cancelled by the claim")
	})
	h.start("")
}

func TestClaimJustAfterWindowClosesLoses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	h.at(time.Hour+time.Second, func() {
		claimAs(h, "ann", rejected(t, workflows.ErrTypeConflict, "capture is already assigned to root"))
	})
	h.then(func() { require.Equal(t, "root", h.state().Assignee) })
	h.start("")
}

func TestConcurrentClaimsExactlyOneWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	var results []error
	collect := func(err error) { results = append(results, err) }
	h.then(func() {
		claimAs(h, "ann", collect)
		claimAs(h, "bob", collect)
	})
	h.then(func() {
		require.Len(t, results, 2)
		var won, lost int
		for _, err := range results {
			var app *temporal.ApplicationError
			switch {
			case err == nil:
				won++
			case errors.As(err, &app) && app.Type() == workflows.ErrTypeConflict:
				lost++
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		require.Equal(t, 1, won)
		require.Equal(t, 1, lost)
		require.Len(t, h.acts.record, 1, "one assignment recorded")
	})
	h.start("")
}

func TestUnassignReturnsToQueueAndRestartsWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, "  requireReassignComment: true"))
	h.at(30*time.Minute, func() { claimAs(h, "ann", ok(t)) })
	h.do(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "bob", Comment: "x"},
		rejected(t, workflows.ErrTypeForbidden, "only the assignee (ann), admins and the owner may"))
	h.do(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "ann"},
		rejected(t, workflows.ErrTypeInvalid, "needs a comment saying why"))
	h.at(50*time.Minute, func() {
		h.send(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "ann", Comment: "going on leave"}, ok(t))
	})
	h.at(90*time.Minute, func() {
		s := h.state()
		require.Empty(t, s.Assignee, "an hour has not passed since the unassign")
		require.Equal(t, workflows.StatusUnassigned, s.Status)
		require.Equal(t, "returned to queue intake by ann: going on leave", lastDecision(s).Reason)
	})
	h.at(111*time.Minute, func() {
		require.Equal(t, "root", h.state().Assignee, "a full window after the unassign")
	})
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "bob"},
		rejected(t, workflows.ErrTypeInvalid, "reassigning capture of claim c1 needs a comment"))
	h.do(workflows.UpdateAssign, workflows.AssignInput{Actor: "root", UserID: "bob", Comment: "bob is back"}, ok(t))
	h.start("")
	require.Equal(t, "bob", h.state().Assignee)
}

func TestEscalation(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("p.yaml", []byte(`
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  stages:
    capture: {dueIn: 2h, escalateTo: root, escalationReassign: true}
    review: {dueIn: 2h, escalateTo: root}
`))
	require.NoError(t, err)
	h := newHarness(t, p)
	h.at(119*time.Minute, func() { require.Empty(t, h.acts.kinds()) })
	h.at(121*time.Minute, func() {
		s := h.state()
		require.Equal(t, []string{policy.EventEscalated}, h.acts.kinds())
		e := h.acts.events[0]
		require.Equal(t, []string{"ann", "root"}, e.Notify, "the assignee and the escalation target")
		require.Equal(t, "capture not completed within 2h0m0s", e.Reason)
		require.Equal(t, "root", s.Assignee, "escalationReassign hands it to the target")
		require.Equal(t, policy.MethodEscalation, lastDecision(s).Method)
	})
	h.complete("root", "", ok(t))
	// review is completed in time: no escalation fires.
	h.at(4*time.Hour, func() { require.Equal(t, policy.StageReview, h.state().Stage) })
	h.complete("ann", "approval", ok(t))
	h.at(10*time.Hour, func() {
		require.Equal(t, []string{policy.EventEscalated, policy.EventCompleted, policy.EventCompleted}, h.acts.kinds(),
			"one escalation in all")
	})
	h.start("")
}

// One user repeating unassign and claim cannot grow a claim without end: each
// stage changes hands at most claims.maxAssigneeChanges times, and a change
// past it is refused (BatonConflict, naming the budget) with the stage left
// with an assignee who can complete it. Free text is bounded and clean.
func TestAssigneeChangesHaveABudget(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, "  maxAssigneeChanges: 4\n"))
	unassign := func(comment string, check func(error)) {
		h.send(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "ann", Comment: comment}, check)
	}
	budget := rejected(t, workflows.ErrTypeConflict, "capture has changed hands 3 times, and claims.maxAssigneeChanges allows 4")
	h.then(func() { claimAs(h, "ann", ok(t)) })                     // 1
	h.then(func() { unassign(strings.Repeat("why ", 500), ok(t)) }) // 2: 2,000 characters are fine
	h.then(func() { claimAs(h, "ann", ok(t)) })                     // 3
	h.then(func() { unassign("again", budget) })                    // a 4th change would leave it queued
	h.then(func() { require.Equal(t, "ann", h.state().Assignee, "refused: nothing changed") })
	h.assign("root", "bob", ok(t)) // 4
	h.assign("root", "ann", rejected(t, workflows.ErrTypeConflict, "changed hands 4 times"))
	h.then(func() {
		unassign(strings.Repeat("x", policy.MaxCommentChars+1), rejected(t, workflows.ErrTypeInvalid,
			`unassign: field "comment" has 4001 characters, at most 4000`))
		claimAs(h, "gus\u200b", rejected(t, workflows.ErrTypeInvalid, `claim: field "actor" holds the control or format character U+200B`))
	})
	h.complete("bob", "", ok(t))
	h.then(func() {
		require.Equal(t, policy.StageReview, h.state().Stage, "the budget is per stage")
		claimAs(h, "ann", ok(t))
	})
	h.start("")
}

// The state answer stays small whatever the claim has been through: it keeps
// the latest MaxStateDecisions decisions and counts the rest, and still says
// where each reached stage's candidates are.
func TestStateKeepsTheLatestDecisions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, windowPolicy(t, ""))
	const rounds = 15
	for range rounds {
		h.then(func() { claimAs(h, "ann", ok(t)) })
		h.then(func() { h.send(workflows.UpdateUnassign, workflows.UnassignInput{Actor: "ann"}, ok(t)) })
	}
	h.then(func() {
		s := h.state()
		require.Len(t, s.Decisions, workflows.MaxStateDecisions)
		require.Equal(t, 1+2*rounds, s.DecisionCount)
		require.Equal(t, 2*rounds, s.Changes)
		require.Equal(t, 1+2*rounds, lastDecision(s).Seq, "the latest are kept")
		require.Equal(t, map[policy.Stage]int{policy.StageCapture: 1}, s.StageDecisions, "the stage's own decision, dropped from the list")
		key, _, err := claimclient.OptionsSource(s, policy.StageCapture)
		require.NoError(t, err)
		require.Equal(t, 1, key.Seq)
	})
	h.start("")
}

// Four eyes holds at completion too: with assignments disabled anyone
// eligible completes a stage, but not the one who completed the stage it
// excludes (issue 20: bob completed capture and then review).
func TestFourEyesHoldsAtCompletion(t *testing.T) {
	t.Parallel()
	p, err := yamlfile.ParsePolicy("p.yaml", []byte(`
claims:
  enableClaimAssignments: false
  stages:
    review: {excludeActorsOf: [capture]}
`))
	require.NoError(t, err)
	h := newHarness(t, p)
	h.complete("bob", "", ok(t))
	h.then(func() { require.Equal(t, []string{"bob"}, h.state().Decisions[1].FourEyes) })
	h.complete("bob", "approval", rejected(t, workflows.ErrTypeForbidden,
		`"bob" may not complete review of claim c1: four eyes: they took or completed its capture, and review excludes whoever did (excludeActorsOf)`))
	h.then(func() { require.Equal(t, policy.StageReview, h.state().Stage, "refused: nothing changed") })
	h.complete("ann", "approval", ok(t))
	h.then(func() { require.Equal(t, policy.StageAcknowledge, h.state().Stage) })
	h.start("")
}
