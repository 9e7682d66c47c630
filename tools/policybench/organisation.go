package policybench

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/batonhq/baton/policy"
)

// StagePermissions are every permission a claim's stages may require: a user
// holding them may take any stage whatever the review outcome.
var StagePermissions = []string{
	policy.PermMakeClaimDecisions, policy.PermAcknowledgeClaimDecisions, policy.PermAcknowledgeClaimApproval,
	policy.PermAcknowledgeClaimGoodwill, policy.PermAcknowledgeClaimRepudiation, policy.PermAcknowledgeClaimNoClaim,
}

// Organisation is a generated directory of n users, o000000 onwards, for the
// organisation-size figures and tests: every every-th user holds every stage
// permission (every 10: 10 % eligible), the rest hold none that a stage needs.
func Organisation(n, every int) *policy.Directory {
	d := &policy.Directory{File: fmt.Sprintf("organisation-%d.yaml", n)}
	every = max(every, 1)
	for i := range n {
		u := policy.User{ID: fmt.Sprintf("o%06d", i), Active: true, EmailNotifications: true, Role: "Clerk",
			Permissions: []string{"ViewClaims"}}
		u.Name, u.Email = "Org user "+u.ID, u.ID+"@example.com"
		if i%every == 0 {
			u.Role, u.Permissions = "Claims handler", StagePermissions
		}
		d.Users = append(d.Users, policy.DirectoryUser{User: u, Line: i + 2})
	}
	return d
}

// WriteDirectory writes a directory file that starter directory load reads back.
func WriteDirectory(w io.Writer, d *policy.Directory) error {
	b := bufio.NewWriter(w)
	fmt.Fprintln(b, "users:")
	for _, u := range d.Users {
		fmt.Fprintf(b, "  - {id: %s, name: %q, email: %s, role: %q, active: %t, permissions: [%s]}\n",
			u.ID, u.Name, u.Email, u.Role, u.Active, strings.Join(u.Permissions, ", "))
	}
	return b.Flush()
}
