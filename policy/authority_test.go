package policy

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// ok and no are standings against a stage's requirement now.
var (
	ok       = UserCheck{Found: true, User: User{Active: true}}
	no       = UserCheck{Found: true, User: User{Active: true}, Reason: "missing MakeClaimDecisions"}
	gone     = UserCheck{Found: true, User: User{Active: false}, Reason: "inactive"}
	stranger = UserCheck{}
)

// The interventions rules, as a table: who may assign, claim, reassign,
// unassign, complete, start a reassignment and migrate a policy. The workflow,
// the API and the store all reach these through Authorize.
func TestAuthorize(t *testing.T) {
	base := Act{ClaimID: "C-1", Stage: StageCapture, Owner: "olga", OwnerActive: true, AssignmentsEnabled: true, Eligible: "ann, bob"}
	with := func(f func(*Act)) Act { a := base; f(&a); return a }
	for _, tc := range []struct {
		name string
		act  Act
		kind RefusalKind // "" when allowed
		msg  string
	}{
		{"an eligible user takes an unassigned stage", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Target, a.TargetCheck = DoAssign, "ann", ok, "ann", ok
		}), "", ""},
		{"a user may not assign someone else", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Target, a.TargetCheck = DoAssign, "ann", ok, "bob", ok
		}), RefusedForbidden, `"ann" may not assign capture of claim C-1 to "bob": only admins and the owner assign others; eligible users may take it themselves`},
		{"an admin assigns anyone eligible", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.ActorAdmin, a.Target, a.TargetCheck = DoAssign, "root", no, true, "bob", ok
		}), "", ""},
		{"the owner assigns anyone eligible", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Target, a.TargetCheck = DoAssign, "olga", no, "bob", ok
		}), "", ""},
		{"an owner who has left may not", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.OwnerActive, a.Target, a.TargetCheck = DoAssign, "olga", gone, false, "bob", ok
		}), RefusedForbidden, `"olga" may not assign capture of claim C-1: user "olga" is inactive`},
		{"the assignee reassigns", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee, a.Target, a.TargetCheck = DoAssign, "ann", ok, "ann", "bob", ok
		}), "", ""},
		{"another user may not reassign", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee, a.Target, a.TargetCheck = DoAssign, "bob", ok, "ann", "bob", ok
		}), RefusedForbidden, `"bob" may not reassign capture of claim C-1: only the assignee (ann), admins and the owner may`},
		{"the new assignee must be eligible", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.ActorAdmin, a.Target, a.TargetCheck = DoAssign, "root", ok, true, "cat", no
		}), RefusedInvalid, `"cat" is not eligible for capture of claim C-1: eligible are ann, bob`},
		{"a target who lost the right since the decision", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.ActorAdmin, a.Target, a.TargetCheck, a.TargetWasCandidate = DoAssign, "root", ok, true, "bob", gone, true
		}), RefusedUnknownUser, `user "bob" is inactive since capture of claim C-1 was decided: they can no longer be given it (eligible now: ann, bob)`},
		{"an eligible user claims", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = DoClaim, "ann", ok }), "", ""},
		{"an ineligible user may not claim", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = DoClaim, "cat", no }),
			RefusedForbidden, `"cat" may not claim capture of claim C-1: they are not eligible (eligible are ann, bob)`},
		{"an unknown actor may do nothing", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = DoClaim, "ghost", stranger }),
			RefusedForbidden, `"ghost" may not claim capture of claim C-1: "ghost" is not in the directory`},
		{"the assignee unassigns", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck, a.Assignee = DoUnassign, "ann", ok, "ann" }), "", ""},
		{"another user may not unassign", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck, a.Assignee = DoUnassign, "bob", ok, "ann" }),
			RefusedForbidden, `"bob" may not unassign capture of claim C-1: only the assignee (ann), admins and the owner may`},
		{"the owner starts a reassignment", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = DoStartReassignment, "olga", no }), "", ""},
		{"a bystander may not start one", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee = DoStartReassignment, "bob", ok, "ann"
		}), RefusedForbidden, `"bob" may not send capture of claim C-1 to a reassignment group: only the assignee (ann), admins and the owner may`},
		{"the assignee completes", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck, a.Assignee = DoComplete, "ann", ok, "ann" }), "", ""},
		{"only the assignee completes, not even an admin", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.ActorAdmin, a.Assignee = DoComplete, "root", ok, true, "ann"
		}), RefusedForbidden, `"root" may not complete capture of claim C-1: only the assignee (ann) may`},
		{"an assignee who lost the right may not complete", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee = DoComplete, "ann", no, "ann"
		}), RefusedForbidden, `"ann" may not complete capture of claim C-1: ` + no.Why("ann")},
		{"a default assignee completes without the permissions", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee, a.AssigneeExempt = DoComplete, "dee", no, "dee", true
		}), "", ""},
		{"without assignments, anyone eligible completes", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.AssignmentsEnabled = DoComplete, "bob", ok, false
		}), "", ""},
		{"without assignments, the ineligible may not", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.AssignmentsEnabled = DoComplete, "cat", no, false
		}), RefusedForbidden, `"cat" may not complete capture of claim C-1: they do not hold MakeClaimDecisions`},
		{"four eyes: without assignments, who acted on an excluded stage may not complete", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.AssignmentsEnabled, a.FourEyes = DoComplete, "bob", ok, false, []string{"bob"}
			a.Stage, a.FourEyesOf = StageReview, []Stage{StageCapture}
		}), RefusedForbidden, `"bob" may not complete review of claim C-1: four eyes: they took or completed its capture, and review excludes whoever did (excludeActorsOf)`},
		{"four eyes: nor with them, even the assignee", with(func(a *Act) {
			a.Action, a.Actor, a.ActorCheck, a.Assignee, a.FourEyes = DoComplete, "ann", ok, "ann", []string{"ann"}
		}), RefusedForbidden, `"ann" may not complete capture of claim C-1: four eyes: they acted on an earlier stage of it that capture excludes`},
		{"an admin migrates a policy", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck, a.ActorAdmin = DoMigratePolicy, "root", ok, true }), "", ""},
		{"the owner may not migrate a policy", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = DoMigratePolicy, "olga", ok }),
			RefusedForbidden, `"olga" may not migrate claim C-1 to another policy version: admins only`},
		{"an unknown action", with(func(a *Act) { a.Action, a.Actor, a.ActorCheck = "finalise", "ann", ok }),
			RefusedInvalid, `unknown action "finalise"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Authorize(tc.act)
			if tc.kind == "" {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r, "want a refusal")
			require.Equal(t, tc.kind, r.Kind)
			require.Equal(t, tc.msg, r.Msg)
		})
	}
}

func TestAuthorizeGroupEdit(t *testing.T) {
	manager := User{ID: "gus", Active: true, Permissions: []string{PermManageReassignmentGroups}}
	left := manager
	left.Active = false
	plain := User{ID: "ann", Active: true, Permissions: []string{"MakeClaimDecisions"}}
	admin := User{ID: "root", Active: true, Permissions: []string{"Admin"}}
	for _, tc := range []struct {
		name  string
		actor string
		u     *User
		want  string
	}{
		{"holds the permission", "gus", &manager, ""},
		{"unknown", "ghost", nil, `ghost may not edit reassignment groups: user "ghost" is not in the directory`},
		{"inactive", "gus", &left, `gus may not edit reassignment groups: user "gus" is inactive`},
		{"lacks it", "ann", &plain, "ann may not edit reassignment groups: it needs the ManageReassignmentGroups permission"},
		{"admin is not enough", "root", &admin, "root may not edit reassignment groups: it needs the ManageReassignmentGroups permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := AuthorizeGroupEdit(tc.actor, tc.u)
			if tc.want == "" {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			require.Equal(t, RefusedForbidden, r.Kind)
			require.Equal(t, tc.want, r.Msg)
		})
	}
}

func TestAuthorizeStatusChange(t *testing.T) {
	ann := User{ID: "ann", Active: true}
	root := User{ID: "root", Active: true, Permissions: []string{PermAdmin}}
	gone := User{ID: "ann", Active: false}
	require.Nil(t, AuthorizeStatusChange("ann", &ann, "ann"), "anyone sets their own")
	require.Nil(t, AuthorizeStatusChange("root", &root, "ann"), "an admin sets anyone's")
	r := AuthorizeStatusChange("ann", &ann, "bob")
	require.NotNil(t, r)
	require.Equal(t, "ann may not set bob's status: only bob and admins may", r.Msg)
	r = AuthorizeStatusChange("ann", &gone, "ann")
	require.NotNil(t, r)
	require.Equal(t, `ann may not set ann's status: user "ann" is inactive`, r.Msg)
	r = AuthorizeStatusChange("ghost", nil, "ann")
	require.NotNil(t, r)
	require.Equal(t, `ghost may not set ann's status: user "ghost" is not in the directory`, r.Msg)
}
