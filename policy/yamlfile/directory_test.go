package yamlfile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

func TestParseDirectory(t *testing.T) {
	t.Parallel()
	d, err := ParseDirectory("dir.yaml", []byte(`
users:
  - {id: ann, name: Ann Lee, email: ann@example.com, role: Admin, permissions: [permissions.MakeClaimDecisions, Admin]}
  - {id: bob, name: Bob Ng, email: bob@example.com, active: false}
teams:
  - {id: t1, name: Team one, members: [bob, ann]}
`))
	require.NoError(t, err)
	require.Len(t, d.Users, 2)
	require.Equal(t, []string{"MakeClaimDecisions", "Admin"}, d.Users[0].Permissions)
	require.True(t, d.Users[0].Active, "active defaults to true")
	require.False(t, d.Users[1].Active)
	require.Equal(t, []string{"bob", "ann"}, d.Teams[0].Members, "member order is kept")
	require.Equal(t, 3, d.Users[0].Line)
}

func TestParseDirectoryErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, want string }{
		{"missing email", "users:\n  - {id: ann, name: Ann}\n", "dir.yaml:2: users[0].email: required"},
		{"bad email", "users:\n  - {id: ann, name: Ann, email: not-an-email}\n", `dir.yaml:2: users[0].email: invalid email "not-an-email"`},
		{"unknown field", "users:\n  - {id: ann, name: Ann, email: a@b.c, rol: Admin}\n", `users[0].rol: unknown field`},
		{"dup user", "users:\n  - {id: ann, name: A, email: a@b.c}\n  - {id: ann, name: B, email: b@b.c}\n", `dir.yaml:3: users[1].id: user "ann" already defined at line 2`},
		{"bad permission", "users:\n  - {id: ann, name: A, email: a@b.c, permissions: [\"x y\"]}\n", `users[0].permissions[0]: invalid permission "x y"`},
		{"member twice", "teams:\n  - id: t\n    name: T\n    members:\n      - ann\n      - ann\n", `dir.yaml:6: teams[0].members[1]: user "ann" listed twice`},
		{"id with space", "users:\n  - {id: a b, name: A, email: a@b.c}\n", `users[0].id: invalid id "a b"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := ParseDirectory("dir.yaml", []byte(tc.doc))
			require.Nil(t, d)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func FuzzParseDirectory(f *testing.F) {
	f.Add([]byte("users:\n  - {id: ann, name: Ann, email: a@b.c, permissions: [X]}\nteams:\n  - {id: t, name: T, members: [ann]}\n"))
	f.Add([]byte(`{"users":[{"id":"a","name":"A","email":"a@b.c","active":false}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDirectory("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, d)
			require.Contains(t, err.Error(), "fuzz.yaml")
			return
		}
		for _, u := range d.Users {
			require.NotEmpty(t, u.ID)
			require.NotEmpty(t, u.Email)
		}
	})
}

func TestParseGroups(t *testing.T) {
	t.Parallel()
	gs, err := ParseGroups("g.yaml", []byte(`
groups:
  - {name: seniors, members: [ava, ben], defaultAssignee: gus, method: broadcast, offerTimeout: 30m}
  - {name: all, members: [ava], defaultAssignee: gus}
`))
	require.NoError(t, err)
	require.Equal(t, policy.GroupBroadcast, gs[0].Method)
	require.Equal(t, 30*time.Minute, gs[0].OfferTimeout)
	require.Equal(t, policy.GroupRoundRobin, gs[1].Method, "round robin by default")
	require.Equal(t, time.Hour, gs[1].OfferTimeout)

	cases := map[string]string{
		"groups:\n  - {name: a, members: [x]}\n":                                                                      "g.yaml:2: groups[0].defaultAssignee: required",
		"groups:\n  - {name: a, members: [x, x], defaultAssignee: y}\n":                                               `groups[0].members[1]: user "x" listed twice`,
		"groups:\n  - {name: a, members: [x], defaultAssignee: y, method: fifo}\n":                                    `groups[0].method: unknown distribution method "fifo"`,
		"groups:\n  - {name: a, members: [x], defaultAssignee: y}\n  - {name: a, members: [x], defaultAssignee: y}\n": `g.yaml:3: groups[1].name: group "a" already defined at line 2`,
	}
	for doc, want := range cases {
		_, err := ParseGroups("g.yaml", []byte(doc))
		require.ErrorContains(t, err, want)
	}
}

func TestCheckIdentifier(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ann", "ann.lee@example.com", "u000123", "team-a_b+c:1", "zoë", "李"} {
		require.NoError(t, policy.CheckIdentifier(ok), ok)
	}
	for bad, want := range map[string]string{
		"gus\u200b":              "U+200B",
		"a b":                    "U+0020",
		"a/b":                    "U+002F",
		"ann\n":                  "U+000A",
		strings.Repeat("x", 201): "longer than 200 characters",
	} {
		require.ErrorContains(t, policy.CheckIdentifier(bad), want, "%q", bad)
	}
}

// A file with many bad rows names the first 50 and counts the rest.
func TestAFileListsAtMostFiftyProblems(t *testing.T) {
	t.Parallel()
	var doc strings.Builder
	doc.WriteString("users:\n")
	for i := range 120 {
		fmt.Fprintf(&doc, "  - {id: \"u %d\", name: U, email: u@x.y}\n", i)
	}
	_, err := ParseDirectory("d.yaml", []byte(doc.String()))
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, MaxProblems+1)
	require.Equal(t, "… and 70 more problems", lines[MaxProblems])
}
