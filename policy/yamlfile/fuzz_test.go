package yamlfile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/policy"
)

// The groups file (also the body of PUT /api/groups) and the what-if claims file
// are parsed from operator input like the policy and directory files: fuzz them
// the same way. Seeds live in testdata/fuzz/<FuzzName>/.

// requireFileErrors checks a rejection: nothing returned, and every line of the
// error names the file, so an operator can find each problem.
func requireFileErrors(t *testing.T, file string, err error) {
	t.Helper()
	for _, line := range strings.Split(err.Error(), "\n") {
		require.True(t, strings.HasPrefix(line, file+":"), "every error names the file: %q in\n%v", line, err)
	}
}

func FuzzParseGroups(f *testing.F) {
	f.Add([]byte("groups:\n  - {name: seniors, members: [ava, ben], defaultAssignee: gus, method: broadcast, offerTimeout: 30m}\n"))
	f.Add([]byte("groups:\n  - {name: \"\", members: [ava], defaultAssignee: gus}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		gs, err := ParseGroups("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, gs)
			requireFileErrors(t, "fuzz.yaml", err)
			return
		}
		names := map[string]bool{}
		type row struct {
			Name            string   `json:"name"`
			Members         []string `json:"members"`
			DefaultAssignee string   `json:"defaultAssignee"`
			Method          string   `json:"method"`
			OfferTimeout    string   `json:"offerTimeout"`
		}
		doc := struct {
			Groups []row `json:"groups"`
		}{Groups: []row{}}
		for _, g := range gs {
			require.NotEmpty(t, g.Name)
			require.False(t, names[g.Name], "group %q twice", g.Name)
			names[g.Name] = true
			require.NotEmpty(t, g.DefaultAssignee)
			require.Contains(t, []policy.GroupMethod{policy.GroupRoundRobin, policy.GroupBroadcast}, g.Method)
			require.Positive(t, g.OfferTimeout)
			require.Len(t, g.MemberLines, len(g.Members))
			seen := map[string]bool{}
			for _, m := range g.Members {
				require.NotEmpty(t, m)
				require.False(t, seen[m], "member %q twice", m)
				seen[m] = true
			}
			doc.Groups = append(doc.Groups, row{g.Name, g.Members, g.DefaultAssignee, string(g.Method), g.OfferTimeout.String()})
		}
		// What was accepted, written out again, reads back the same.
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		again, err := ParseGroups("again.json", out)
		require.NoError(t, err, "%s", out)
		require.Len(t, again, len(gs))
		for i := range gs {
			a, b := gs[i], again[i]
			a.Line, a.MemberLines, b.Line, b.MemberLines = 0, nil, 0, nil
			require.Equal(t, a, b)
		}
	})
}

func FuzzParseSampleClaims(f *testing.F) {
	f.Add([]byte("claims:\n  - {id: c1, owner: ava, data: {state: CA}, stages: [capture], outcome: approval, recentHost: ben}\n"))
	f.Add([]byte("claims:\n  - {id: c1, stages: [finalise]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		samples, err := ParseSampleClaims("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, samples)
			requireFileErrors(t, "fuzz.yaml", err)
			return
		}
		type row struct {
			ID         string            `json:"id"`
			Owner      string            `json:"owner,omitempty"`
			RecentHost string            `json:"recentHost,omitempty"`
			Outcome    string            `json:"outcome,omitempty"`
			Stages     []policy.Stage    `json:"stages,omitempty"`
			Data       map[string]string `json:"data"`
		}
		doc := struct {
			Claims []row `json:"claims"`
		}{Claims: []row{}}
		for _, s := range samples {
			require.NotEmpty(t, s.ID)
			for _, st := range s.Stages {
				require.True(t, st.Assignable(), "stage %q", st)
			}
			if s.Outcome != "" {
				_, err := policy.ParseOutcome(string(s.Outcome))
				require.NoError(t, err)
			}
			doc.Claims = append(doc.Claims, row{s.ID, s.Owner, s.RecentHost, string(s.Outcome), s.Stages, s.Data})
		}
		out, err := json.Marshal(doc)
		require.NoError(t, err)
		again, err := ParseSampleClaims("again.json", out)
		require.NoError(t, err, "%s", out)
		require.Equal(t, samples, again)
	})
}

// A required value given as an empty string is as missing as an absent one.
func TestEmptyRequiredValues(t *testing.T) {
	t.Parallel()
	_, err := ParseDirectory("d.yaml", []byte("users:\n  - {id: \"\", name: Ann, email: ann@example.com}\n"))
	require.EqualError(t, err, "d.yaml:2: users[0].id: may not be empty")
	_, err = ParseDirectory("d.yaml", []byte("teams:\n  - id: t\n    name: ''\n"))
	require.EqualError(t, err, "d.yaml:3: teams[0].name: may not be empty")
	_, err = ParseGroups("g.yaml", []byte("groups:\n  - {name: \"\", members: [ava], defaultAssignee: \"\"}\n"))
	require.EqualError(t, err, "g.yaml:2: groups[0].name: may not be empty\ng.yaml:2: groups[0].defaultAssignee: may not be empty")
}

// The parsers' seed corpora say what each seed is: a file named bad-* must be
// rejected, example-* and good-* accepted, so the seeds stay meaningful.
func TestSeedCorpusVerdicts(t *testing.T) {
	t.Parallel()
	parsers := map[string]func([]byte) error{
		"FuzzParsePolicy":       func(b []byte) error { _, err := ParsePolicy("seed.yaml", b); return err },
		"FuzzParseDirectory":    func(b []byte) error { _, err := ParseDirectory("seed.yaml", b); return err },
		"FuzzParseGroups":       func(b []byte) error { _, err := ParseGroups("seed.yaml", b); return err },
		"FuzzParseSampleClaims": func(b []byte) error { _, err := ParseSampleClaims("seed.yaml", b); return err },
	}
	for target, parse := range parsers {
		entries, err := os.ReadDir(filepath.Join("testdata", "fuzz", target))
		require.NoError(t, err)
		require.NotEmpty(t, entries, target)
		for _, e := range entries {
			raw, err := os.ReadFile(filepath.Join("testdata", "fuzz", target, e.Name()))
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
			require.Len(t, lines, 2, "%s/%s", target, e.Name())
			require.Equal(t, "go test fuzz v1", lines[0])
			quoted, ok := strings.CutPrefix(lines[1], "[]byte(")
			require.True(t, ok, "%s/%s", target, e.Name())
			data, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
			require.NoError(t, err, "%s/%s", target, e.Name())
			err = parse([]byte(data))
			if strings.HasPrefix(e.Name(), "bad-") {
				require.Error(t, err, "%s/%s is a bad seed", target, e.Name())
			} else {
				require.NoError(t, err, "%s/%s is a good seed", target, e.Name())
			}
		}
	}
}

// A stage naming a user the directory does not know is reported with its line,
// every such field in a stable order.
func TestStageReferencesNameTheirLine(t *testing.T) {
	t.Parallel()
	p, err := ParsePolicy("p.yaml", []byte("claims:\n  stages:\n    capture:\n      assignee: ghost\n"+
		"    review:\n      dueIn: 4h\n      escalateTo: nobody\n      defaultAssignee: ghost\n"))
	require.NoError(t, err)
	err = CheckReferences("p.yaml", p, []policy.User{{ID: "gus"}}, nil)
	require.EqualError(t, err, `p.yaml:4: claims.stages.capture.assignee: unknown user "ghost"`+"\n"+
		`p.yaml:8: claims.stages.review.defaultAssignee: unknown user "ghost"`+"\n"+
		`p.yaml:7: claims.stages.review.escalateTo: unknown user "nobody"`)
}
