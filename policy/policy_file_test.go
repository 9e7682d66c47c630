package policy

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePolicy(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte(`
version: v7
claims:
  enableClaimAssignments: true
  claimAssignmentMethod: RoundRobin
  stages:
    review: {method: manual}
    acknowledge:
      permissions: [permissions.AcknowledgeClaimDecisions, Supervisor]
      outcomePermissions: {goodwill: GoodwillSignoff}
`))
	require.NoError(t, err)
	require.Equal(t, "v7", p.Version)
	require.True(t, p.AssignmentsEnabled)
	require.Equal(t, MethodRoundRobin, p.MethodFor(StageCapture))
	require.Equal(t, MethodManual, p.MethodFor(StageReview))
	require.Equal(t, []string{PermMakeClaimDecisions}, p.Required(StageCapture, ""))
	require.Equal(t, []string{"AcknowledgeClaimDecisions", "Supervisor", "GoodwillSignoff"}, p.Required(StageAcknowledge, OutcomeGoodwill))
	require.Equal(t, []string{"AcknowledgeClaimDecisions", "Supervisor", PermAcknowledgeClaimApproval}, p.Required(StageAcknowledge, OutcomeApproval))
}

func TestParsePolicyDefaults(t *testing.T) {
	t.Parallel()
	// The source's JSON form, with the method omitted: manual, and a content-hash version.
	p, err := ParsePolicy("p.json", []byte(`{"claims": {"enableClaimAssignments": true}}`))
	require.NoError(t, err)
	require.Equal(t, MethodManual, p.Method)
	require.True(t, strings.HasPrefix(p.Version, "sha256:"), p.Version)

	p, err = ParsePolicy("p.json", []byte(`{"claims": {"claimAssignmentMethod": "round_robin"}}`))
	require.NoError(t, err)
	require.False(t, p.AssignmentsEnabled, "enableClaimAssignments defaults to false as in the source")

	require.Equal(t, []string{PermAcknowledgeClaimDecisions, PermAcknowledgeClaimNoClaim},
		DefaultPolicy().Required(StageAcknowledge, OutcomeNoClaim))
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"unknown method", "claims:\n  claimAssignmentMethod: round_robbin\n",
			[]string{`p.yaml:2: claims.claimAssignmentMethod: unknown assignment method "round_robbin"`, `did you mean "round_robin"`}},
		{"stage typo", "claims:\n  stages:\n    reveiw: {method: manual}\n",
			[]string{`p.yaml:3: claims.stages.reveiw: unknown stage "reveiw"`, `did you mean "review"`}},
		{"finalise configured", "claims:\n  stages:\n    finalise: {method: manual}\n",
			[]string{"p.yaml:3: claims.stages.finalise: finalise is terminal"}},
		{"unknown key", "claims:\n  enableClaimAssignmets: true\n",
			[]string{"p.yaml:2: claims.enableClaimAssignmets: unknown field", `did you mean "enableClaimAssignments"`}},
		{"bool as string", "claims:\n  enableClaimAssignments: \"yes\"\n",
			[]string{`p.yaml:2: claims.enableClaimAssignments: want true or false, got "yes"`}},
		{"bad permission", "claims:\n  stages:\n    review:\n      permissions: [\"Make Claim\"]\n",
			[]string{`p.yaml:4: claims.stages.review.permissions[0]: invalid permission "Make Claim"`}},
		{"outcome perms on review", "claims:\n  stages:\n    review:\n      outcomePermissions: {approval: X}\n",
			[]string{"p.yaml:4: claims.stages.review.outcomePermissions: only the acknowledge stage"}},
		{"unknown outcome", "claims:\n  stages:\n    acknowledge:\n      outcomePermissions: {aproval: X}\n",
			[]string{`claims.stages.acknowledge.outcomePermissions.aproval: unknown review outcome "aproval"`}},
		{"not yaml", "claims: [\n", []string{"p.yaml: not valid YAML or JSON"}},
		{"empty", "", []string{"p.yaml: empty policy file"}},
		{"top level list", "- a\n", []string{"p.yaml:1: (top level): want a mapping"}},
		{"two errors at once", "claims:\n  claimAssignmentMethod: x\n  stages: {capure: {}}\n",
			[]string{"p.yaml:2: claims.claimAssignmentMethod", "p.yaml:3: claims.stages.capure"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePolicy("p.yaml", []byte(tc.doc))
			require.Error(t, err)
			require.Nil(t, p, "an invalid file yields no policy")
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("claims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: round_robin\n"))
	f.Add([]byte(`{"claims":{"stages":{"acknowledge":{"outcomePermissions":{"approval":"X"}}}}}`))
	f.Add([]byte("claims:\n  stages:\n    review: {permissions: [a, b]}\n"))
	f.Add([]byte("version: 1\nclaims: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, p)
			require.True(t, strings.HasPrefix(err.Error(), "fuzz.yaml"), "every error names the file: %v", err)
			return
		}
		require.NotEmpty(t, p.Version)
		for _, s := range AssignableStages {
			_, err := ParseMethod(string(p.MethodFor(s)))
			require.NoError(t, err)
			for _, o := range append(Outcomes, "") {
				for _, perm := range p.Required(s, o) {
					_, err := NormalizePermission(perm)
					require.NoError(t, err)
				}
			}
		}
	})
}
