package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Permissions named by the claim-assignment source, plus Baton's own.
const (
	PermMakeClaimDecisions          = "MakeClaimDecisions"
	PermAcknowledgeClaimDecisions   = "AcknowledgeClaimDecisions"
	PermAcknowledgeClaimApproval    = "AcknowledgeClaimApproval"
	PermAcknowledgeClaimGoodwill    = "AcknowledgeClaimGoodwill"
	PermAcknowledgeClaimRepudiation = "AcknowledgeClaimRepudiation"
	PermAcknowledgeClaimNoClaim     = "AcknowledgeClaimNoClaim"
	// PermAdmin lets a user reassign any claim, as the interventions source's
	// "users with admin permissions".
	PermAdmin = "Admin"
)

// DefaultOutcomePermissions maps each review outcome to the extra permission the
// acknowledge stage requires.
var DefaultOutcomePermissions = map[Outcome]string{
	OutcomeApproval:    PermAcknowledgeClaimApproval,
	OutcomeGoodwill:    PermAcknowledgeClaimGoodwill,
	OutcomeRepudiation: PermAcknowledgeClaimRepudiation,
	OutcomeNoClaim:     PermAcknowledgeClaimNoClaim,
}

// DefaultStagePermissions are the permissions each stage requires before any
// outcome-specific permission is added.
var DefaultStagePermissions = map[Stage][]string{
	StageCapture:     {PermMakeClaimDecisions},
	StageReview:      {PermMakeClaimDecisions},
	StageAcknowledge: {PermAcknowledgeClaimDecisions},
}

var permissionPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// NormalizePermission strips the "permissions." prefix the source writes and checks
// the name is a plain identifier, so a stray space or quote is caught at load time
// rather than silently making nobody eligible.
func NormalizePermission(name string) (string, error) {
	n := strings.TrimPrefix(strings.TrimSpace(name), "permissions.")
	if !permissionPattern.MatchString(n) {
		return "", fmt.Errorf("invalid permission %q: want letters, digits and underscores, e.g. MakeClaimDecisions", name)
	}
	return n, nil
}
