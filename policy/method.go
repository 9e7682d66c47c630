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
	return "", fmt.Errorf("unknown assignment method %q: want manual, round_robin or product_module%s",
		name, suggest(strings.ToLower(name), []string{"manual", "round_robin", "product_module"}))
}
