package yamlfile

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

// The stage rules a file sets are the ones its decisions carry.
func TestStageRulesInTheFile(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte(`
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: round_robin
  requireReassignComment: true
  stages:
    capture: {defaultAssignee: gus, queue: intake, claimWindow: 2h, dueIn: 1d, escalateTo: gus}
    review: {defaultAssignee: old}
`))
	require.NoError(t, err)
	require.Equal(t, policy.StageRules{Queue: "intake", ClaimWindow: 2 * time.Hour, DefaultAssignee: "gus",
		DueIn: 24 * time.Hour, EscalateTo: "gus", RequireReassignComment: true}, p.RulesFor(policy.StageCapture))
	require.Equal(t, "old", p.RulesFor(policy.StageReview).DefaultAssignee)
}

func TestStageRuleErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"claims:\n  stages:\n    capture: {claimWindow: 2h}\n":                       "p.yaml:3: claims.stages.capture.claimWindow: a claim window needs a defaultAssignee",
		"claims:\n  stages:\n    capture: {claimWindow: soon, defaultAssignee: a}\n": `claims.stages.capture.claimWindow: invalid duration "soon"`,
		"claims:\n  stages:\n    capture: {escalateTo: gus}\n":                       "claims.stages.capture.escalateTo: needs dueIn",
		"claims:\n  stages:\n    capture: {dueIn: 1h, escalationReassign: true}\n":   "claims.stages.capture.escalationReassign: needs escalateTo",
		"claims:\n  stages:\n    capture: {dueIn: -1h}\n":                            `invalid duration "-1h"`,
	}
	for doc, want := range cases {
		_, err := ParsePolicy("p.yaml", []byte(doc))
		require.ErrorContains(t, err, want)
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	old, err := ParsePolicy("a.yaml", []byte(fmt.Sprintf(rulesDoc, `
      - {id: a, then: [{action: assign_user, user: x}]}
      - {id: b, then: [{action: assign_user, user: y}]}
      - {id: c, then: [{action: assign_user, user: z}]}`)))
	require.NoError(t, err)
	nw, err := ParsePolicy("b.yaml", []byte(fmt.Sprintf(`
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: distribution
  stages:
    review: {queue: intake}
  distribution:
    rules:
%s`, `
      - {id: b, then: [{action: assign_user, user: y}]}
      - {id: a, then: [{action: assign_user, user: w}]}
      - {id: d, then: [{action: set_priority, priority: Low}]}`)))
	require.NoError(t, err)
	require.Equal(t, []string{
		`~ claims.stages.review.queue: (none) → "intake"`,
		"↕ rule b: position 2 → 1",
		"~ rule a: always then assign_user x → always then assign_user w",
		"↕ rule a: position 1 → 2",
		"+ rule d at position 3: always then set_priority Low",
		"- rule c: always then assign_user z",
	}, policy.Diff(old, nw))
	require.Empty(t, policy.Diff(old, old))
}

func TestDirectoryFileStatusAndCapacity(t *testing.T) {
	t.Parallel()
	d, err := ParseDirectory("dir.yaml", []byte(`
users:
  - {id: ann, name: Ann, email: ann@example.com, status: away, capacity: {total: 20, review: 5}}
  - {id: bob, name: Bob, email: bob@example.com}
`))
	require.NoError(t, err)
	require.Equal(t, policy.Away, d.Users[0].Status)
	require.Equal(t, policy.Capacity{Total: 20, PerStage: map[policy.Stage]int{policy.StageReview: 5}}, d.Users[0].Capacity)
	require.Equal(t, policy.Availability(""), d.Users[1].Status, "no status in the file leaves the stored one")
	require.True(t, d.Users[1].Capacity.IsZero())

	for _, tc := range []struct{ row, want string }{
		{"status: gone", `dir.yaml:3: users[0].status: unknown status "gone": want available, away or offline`},
		{"capacity: {reveiw: 5}", `dir.yaml:3: users[0].capacity.reveiw: unknown field`},
		{"capacity: {total: 0}", `dir.yaml:3: users[0].capacity.total: want a whole number of at least 1, got "0"`},
		{"capacity: {finalise: 2}", `dir.yaml:3: users[0].capacity.finalise: unknown field`},
	} {
		_, err := ParseDirectory("dir.yaml", []byte("users:\n  - id: ann\n    "+tc.row+"\n    name: Ann\n    email: ann@example.com\n"))
		require.Error(t, err, tc.row)
		require.Contains(t, err.Error(), tc.want, tc.row)
	}
}

// Four eyes in the file: excludeActorsOf names the stages before, and an
// error offers those, never finalise.
func TestFourEyesInTheFile(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte("claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"+
		"  stages:\n    review:\n      excludeActorsOf: [capture]\n      defaultAssignee: gus\n      fallback: default\n"))
	require.NoError(t, err)
	require.Equal(t, []policy.Stage{policy.StageCapture}, p.Stages[policy.StageReview].ExcludeActorsOf)
	require.Equal(t, policy.FallbackDefault, p.Stages[policy.StageReview].Fallback)

	_, err = ParsePolicy("p.yaml", []byte("claims:\n  stages:\n    capture:\n      excludeActorsOf: [review]\n"))
	require.ErrorContains(t, err, "p.yaml:4: claims.stages.capture.excludeActorsOf[0]: review is not a stage before capture: capture is the first stage: no stage comes before it")
	// The choices offered are the stages before, never finalise.
	_, err = ParsePolicy("p.yaml", []byte("claims:\n  stages:\n    acknowledge:\n      excludeActorsOf: [reveiw, finalise]\n"))
	require.ErrorContains(t, err, `p.yaml:4: claims.stages.acknowledge.excludeActorsOf[0]: unknown stage "reveiw": want capture or review (did you mean "review"?)`)
	require.ErrorContains(t, err, `claims.stages.acknowledge.excludeActorsOf[1]: finalise is not a stage before acknowledge: want capture or review`)
}
