package policy

import (
	"fmt"
	"strings"
)

// Method is how a stage's assignee is chosen.
type Method string

// Assignment methods. The first three are the claim-assignment source's; the others
// label decisions that no configured method made.
const (
	MethodManual        Method = "manual"
	MethodRoundRobin    Method = "round_robin"
	MethodProductModule Method = "product_module"
	// MethodQueue leaves the stage in its queue for an eligible user to claim
	// (care-team source: "Add to Queue").
	MethodQueue Method = "queue"
	// MethodDistribution evaluates the distribution policy's rules.
	MethodDistribution Method = "distribution"
	// MethodWeightedRoundRobin gives each user their ticket priority's share per
	// round, highest priority first.
	MethodWeightedRoundRobin Method = "weighted_round_robin"
	// MethodCareTeamRandom picks at random from the claim's care team.
	MethodCareTeamRandom Method = "care_team_random"
	// MethodCareTeamPrimary picks the first person on the claim's care team.
	MethodCareTeamPrimary Method = "care_team_primary"
	// MethodFormSubmitter picks the user who started the claim.
	MethodFormSubmitter Method = "form_submitter"
	// MethodRecentHost picks the user most recently recorded against the claim's subject.
	MethodRecentHost Method = "recent_host"
	// MethodStatic labels a stage's fixed assignee.
	MethodStatic Method = "static"
	// MethodExpression labels an assignee taken from an expression.
	MethodExpression Method = "expression"
	// MethodNone labels a stage decided while claim assignments are disabled.
	MethodNone Method = "none"
	// MethodAssign labels a person choosing the assignee through the assign update.
	MethodAssign Method = "assign"
	// MethodClaim labels an eligible user taking unassigned work themselves.
	MethodClaim Method = "claim"
	// MethodUnassign labels work returned to its queue.
	MethodUnassign Method = "unassign"
	// MethodDefaultAssignee labels the default assignee getting the stage: nobody
	// was eligible, a claim window passed, or a reassignment round found no taker.
	MethodDefaultAssignee Method = "default_assignee"
	// MethodEscalation labels a reassignment to the escalation target.
	MethodEscalation Method = "escalation"
	// MethodLeastLoaded gives the stage to the eligible, available person with
	// the fewest open stages (the most spare capacity when limits are set), ties
	// in the stage's turn order.
	MethodLeastLoaded Method = "least_loaded"
	// MethodReassignmentGroup labels a group member accepting an offer.
	MethodReassignmentGroup Method = "reassignment_group"
)

// ParseMethod accepts both spellings the source uses ("round_robin", "RoundRobin").
func ParseMethod(name string) (Method, error) {
	key := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(name), "_", ""))
	switch key {
	case "manual":
		return MethodManual, nil
	case "roundrobin":
		return MethodRoundRobin, nil
	case "productmodule":
		return MethodProductModule, nil
	}
	for _, m := range extraMethods {
		if key == strings.ReplaceAll(string(m), "_", "") {
			return m, nil
		}
	}
	all := []string{"manual", "round_robin", "product_module"}
	for _, m := range extraMethods {
		all = append(all, string(m))
	}
	return "", fmt.Errorf("unknown assignment method %q: want one of %s%s",
		name, strings.Join(all, ", "), Suggest(strings.ToLower(name), all))
}

// extraMethods are Baton's methods beyond the claim-assignment source's three.
var extraMethods = []Method{MethodQueue, MethodDistribution, MethodWeightedRoundRobin, MethodCareTeamRandom,
	MethodCareTeamPrimary, MethodFormSubmitter, MethodRecentHost, MethodLeastLoaded}
