package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

// rulesPolicy is a stored policy of n rules like the benchmark's: rule i
// assigns team t when customer_group is group-i or alt-i and email_from_domain
// contains domaini.example.
func rulesPolicy(t *testing.T, db *batontest.Schema, n int) *policy.Policy {
	t.Helper()
	ctx := context.Background()
	_, err := loadDir(t, db.Store, `
users:
  - {id: ann, name: Ann, email: ann@example.com, permissions: [MakeClaimDecisions]}
teams:
  - {id: t, name: T, members: [ann]}
`)
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("name: claims\nclaims:\n  enableClaimAssignments: true\n  claimAssignmentMethod: distribution\n  distribution:\n    rules:\n")
	for i := range n {
		fmt.Fprintf(&b, "      - id: r%d\n        when:\n", i)
		fmt.Fprintf(&b, "          - {attribute: customer_group, operator: IN, values: [group-%d, alt-%d]}\n", i, i)
		fmt.Fprintf(&b, "          - {attribute: email_from_domain, operator: CONTAINS, values: [domain%d.example]}\n", i)
		b.WriteString("        then: [{action: assign_team, team: t}]\n")
	}
	body := []byte(b.String())
	parsed, err := yamlfile.ParsePolicy("rules.yaml", body)
	require.NoError(t, err)
	res, err := db.Store.PolicyApply(ctx, "rules.yaml", body, parsed, "ann")
	require.NoError(t, err)
	sp, err := db.Store.PolicyVersion(ctx, "claims", res.Version)
	require.NoError(t, err)
	p, err := sp.Parse()
	require.NoError(t, err)
	require.Equal(t, policy.StoredVersion{Name: "claims", Version: res.Version}, p.Stored)
	return p
}

// decide makes and records a stage decision as ResolveAssignment does.
func decide(t *testing.T, db *batontest.Schema, p *policy.Policy, k policy.DecisionKey, data map[string]string) policy.Decision {
	t.Helper()
	ctx := context.Background()
	var d policy.Decision
	require.NoError(t, db.Store.InTx(ctx, func(qs *store.Queries) error {
		people := qs.People()
		var ex policy.Explanation
		var err error
		d, ex, err = policy.Decide(ctx, policy.DecideInput{Policy: p, Stage: k.Stage, People: people, Claim: policy.Claim{ID: "c1", Data: data}})
		if err != nil {
			return err
		}
		ref := people.Ref(ex.Requirement)
		d.Seq, ex.RequirementID, ex.Generation = k.Seq, ref.ID, ref.Generation
		_, err = qs.DecisionRecord(ctx, store.DecisionWrite{Key: k, ClaimID: "c1", Decision: d, Explanation: &ex,
			Event: store.TimelineEvent{WorkflowID: k.WorkflowID, ClaimID: "c1", Stage: k.Stage, Seq: k.Seq, Kind: policy.EventAssigned, Subject: d.Assignee}})
		return err
	}))
	return d
}

// A rule-routed decision stores its record, not its trace: under 1 KB for 200
// rules. Its explanation reads back the trace a direct evaluation writes.
func TestRuleRoutedDecisionStoresItsRecord(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	p := rulesPolicy(t, db, 200)
	data := map[string]string{"customer_group": "GROUP-199", "email_from_domain": "mail.domain199.example"}
	k := policy.DecisionKey{WorkflowID: "claim/c1", Stage: policy.StageCapture, Seq: 1}
	d := decide(t, db, p, k, data)
	require.Equal(t, "r199", d.MatchedRule)
	require.Equal(t, "ann", d.Assignee)

	var sent, stored int
	var noTrace bool
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT octet_length(rule_record::text), pg_column_size(rule_record), rule_trace IS NULL
		FROM decisions WHERE workflow_id = $1 AND stage = $2 AND seq = $3`, k.WorkflowID, k.Stage, k.Seq).Scan(&sent, &stored, &noTrace))
	require.True(t, noTrace, "new decisions write no trace")
	require.LessOrEqual(t, sent, 1024, "the record as text")
	require.LessOrEqual(t, stored, 1024, "the record as stored")

	e, err := db.Store.ExplanationGet(ctx, k)
	require.NoError(t, err)
	require.False(t, e.RuleDrift.Drifted, e.RuleDrift.Why)
	_, direct := policy.EvaluateRules(p.Rules, data)
	require.Len(t, e.RuleTrace, 200)
	require.Equal(t, policy.Written(direct), e.RuleTrace)
	require.Equal(t, `customer_group IN group-0, alt-0: "GROUP-199" does not match`, e.RuleTrace[0].Reason())

	head, err := db.Store.ExplanationHead(ctx, k)
	require.NoError(t, err)
	require.Empty(t, head.RuleTrace, "the head reads no policy")
	require.Equal(t, 200, head.RuleRecord.Tried)
	require.Equal(t, e.Candidates, head.Candidates)
}

// A row whose record no longer agrees with its rules says so; one whose
// policy cannot be read says why no rules are shown.
func TestRuleRecordDriftReadsPlainly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	p := rulesPolicy(t, db, 20)
	k := policy.DecisionKey{WorkflowID: "claim/c1", Stage: policy.StageCapture, Seq: 1}
	decide(t, db, p, k, map[string]string{"customer_group": "alt-7", "email_from_domain": "domain7.example"})

	set := func(record string) {
		_, err := db.Pool.Exec(ctx, `UPDATE decisions SET rule_record = $4 WHERE workflow_id = $1 AND stage = $2 AND seq = $3`,
			k.WorkflowID, k.Stage, k.Seq, record)
		require.NoError(t, err)
	}
	set(`{"engine":1,"policy":{"name":"claims","version":1},"matched":"r12","tried":13,"values":{"customer_group":"alt-7","email_from_domain":"domain7.example"}}`)
	e, err := db.Store.ExplanationGet(ctx, k)
	require.NoError(t, err)
	require.True(t, e.RuleDrift.Drifted)
	require.Equal(t, "re-evaluating the rules of policy claims@v1 with the recorded values now matches r7 (8 rules tried), but the decision recorded r12 (13 rules tried, engine 1)",
		e.RuleDrift.Why)
	require.Len(t, e.RuleTrace, 8, "today's trace is shown")

	set(`{"engine":1,"policy":{"name":"claims","version":9},"matched":"r7","tried":8,"values":{}}`)
	e, err = db.Store.ExplanationGet(ctx, k)
	require.NoError(t, err)
	require.Equal(t, policy.RuleDrift{Drifted: true, Why: "the rules tried cannot be shown: policy claims@v9 is not stored; the decision recorded r7 (8 rules tried, engine 1)"}, e.RuleDrift)
	require.Empty(t, e.RuleTrace)

	set(`{"engine":1,"matched":"r7","tried":8,"values":{}}`)
	e, err = db.Store.ExplanationGet(ctx, k)
	require.NoError(t, err)
	require.Contains(t, e.RuleDrift.Why, "the rules tried cannot be shown: policy claims@v1 is not a stored version")

	set(`{"engine":1,"values":{"a":1}}`)
	_, err = db.Store.ExplanationGet(ctx, k)
	require.ErrorContains(t, err, "decode rule record claim/c1/capture/1")
}

// A decision recorded before rule records keeps its stored trace and reads
// back exactly as it did.
func TestOldRuleTraceReadsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := batontest.New(t)
	p := rulesPolicy(t, db, 5)
	data := map[string]string{"customer_group": "Gold \"quoted\" \u2028", "email_from_domain": "x"}
	_, trace := policy.EvaluateRules(p.Rules, data)
	old, err := policy.Trace(trace).MarshalJSON() // what decisionArgs stored before rule records
	require.NoError(t, err)
	body, err := json.Marshal(policy.Decision{Seq: 1, Stage: policy.StageCapture, Method: policy.MethodDistribution, RulesTried: 5, PolicyVersion: p.Version})
	require.NoError(t, err)
	k := policy.DecisionKey{WorkflowID: "claim/old", Stage: policy.StageCapture, Seq: 1}
	_, err = db.Pool.Exec(ctx, `INSERT INTO decisions (workflow_id, stage, seq, claim_id, method, reason, policy_version, body, requirement, rule_trace)
		VALUES ($1, $2, $3, 'old', 'distribution', 'no distribution rule matched', $4, $5, '{}', $6)`, k.WorkflowID, k.Stage, k.Seq, p.Version, body, old)
	require.NoError(t, err)

	e, err := db.Store.ExplanationGet(ctx, k)
	require.NoError(t, err)
	var want []policy.RuleTrace
	require.NoError(t, json.Unmarshal(old, &want))
	require.Equal(t, want, e.RuleTrace)
	require.Equal(t, policy.Written(trace), e.RuleTrace)
	require.Nil(t, e.RuleRecord)
	require.False(t, e.RuleDrift.Drifted)
}
