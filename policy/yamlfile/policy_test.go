package yamlfile

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
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
	require.Equal(t, policy.MethodRoundRobin, p.MethodFor(policy.StageCapture))
	require.Equal(t, policy.MethodManual, p.MethodFor(policy.StageReview))
	require.Equal(t, []string{policy.PermMakeClaimDecisions}, p.Required(policy.StageCapture, ""))
	require.Equal(t, []string{"AcknowledgeClaimDecisions", "Supervisor", "GoodwillSignoff"}, p.Required(policy.StageAcknowledge, policy.OutcomeGoodwill))
	require.Equal(t, []string{"AcknowledgeClaimDecisions", "Supervisor", policy.PermAcknowledgeClaimApproval}, p.Required(policy.StageAcknowledge, policy.OutcomeApproval))
}

func TestParsePolicyDefaults(t *testing.T) {
	t.Parallel()
	// The source's JSON form, with the method omitted: manual, and a content-hash version.
	p, err := ParsePolicy("p.json", []byte(`{"claims": {"enableClaimAssignments": true}}`))
	require.NoError(t, err)
	require.Equal(t, policy.MethodManual, p.Method)
	require.True(t, strings.HasPrefix(p.Version, "sha256:"), p.Version)

	p, err = ParsePolicy("p.json", []byte(`{"claims": {"claimAssignmentMethod": "round_robin"}}`))
	require.NoError(t, err)
	require.False(t, p.AssignmentsEnabled, "enableClaimAssignments defaults to false as in the source")

	require.Equal(t, []string{policy.PermAcknowledgeClaimDecisions, policy.PermAcknowledgeClaimNoClaim},
		policy.DefaultPolicy().Required(policy.StageAcknowledge, policy.OutcomeNoClaim))
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
		{"budget zero", "claims:\n  maxAssigneeChanges: 0\n",
			[]string{`p.yaml:2: claims.maxAssigneeChanges: want a whole number from 1 to 300, got "0"`}},
		{"budget past the most", "claims:\n  maxAssigneeChanges: 301\n",
			[]string{`p.yaml:2: claims.maxAssigneeChanges: want a whole number from 1 to 300, got "301"`}},
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
		for _, s := range policy.AssignableStages {
			_, err := policy.ParseMethod(string(p.MethodFor(s)))
			require.NoError(t, err)
			for _, o := range append(policy.Outcomes, "") {
				for _, perm := range p.Required(s, o) {
					_, err := policy.NormalizePermission(perm)
					require.NoError(t, err)
				}
			}
		}
	})
}

func TestAssigneeChangeBudget(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte("claims:\n  maxAssigneeChanges: 7\n"))
	require.NoError(t, err)
	require.Equal(t, 7, p.RulesFor(policy.StageReview).ChangeBudget())
	require.Equal(t, policy.DefaultMaxAssigneeChanges, policy.DefaultPolicy().RulesFor(policy.StageReview).ChangeBudget())
	require.Equal(t, policy.DefaultMaxAssigneeChanges, policy.StageRules{}.ChangeBudget(), "rules recorded before the budget existed")
}

func TestCheckCommentBytes(t *testing.T) {
	t.Parallel()
	require.NoError(t, policy.CheckComment("comment", strings.Repeat("😀", 2000)), "8,000 bytes")
	require.EqualError(t, policy.CheckComment("comment", strings.Repeat("😀", 2001)), `field "comment" is 8004 bytes of UTF-8, at most 8000`)
	require.EqualError(t, policy.CheckComment("comment", strings.Repeat("x", 4001)), `field "comment" has 4001 characters, at most 4000`)
}

func TestCheckText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value string
		multiline   bool
		want        string
	}{
		{"plain", "see the photos", true, ""},
		{"lines and tabs in a comment", "first\n\tsecond\r\n", true, ""},
		{"accents and emoji", "réexaminer 👀", false, ""},
		{"at the limit", strings.Repeat("é", 20), false, ""},
		{"past the limit", strings.Repeat("é", 21), false, `field "f" has 21 characters, at most 20`},
		{"a line break in an id", "ann\nbob", false, `field "f" holds the control or format character U+000A at character 4`},
		{"zero-width space", "gus\u200b", false, `field "f" holds the control or format character U+200B at character 4`},
		{"right-to-left override", "a\u202eb", true, "U+202E"},
		{"terminal escape", "\x1b[2Jgone", true, "U+001B at character 1"},
		{"not UTF-8", "\xff", true, `field "f" is not valid UTF-8`},
	}
	for _, tc := range cases {
		err := policy.CheckText("f", tc.value, 20, tc.multiline)
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.ErrorContains(t, err, tc.want, tc.name)
		require.NotContains(t, err.Error(), tc.value, "%s: the text is never echoed", tc.name)
	}
}
