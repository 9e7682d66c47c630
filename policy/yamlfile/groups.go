package yamlfile

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

// LoadGroups reads and parses a reassignment-groups file.
func LoadGroups(path string) ([]policy.ReassignmentGroup, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read groups file: %w", err)
	}
	return ParseGroups(path, data)
}

// ParseGroups parses a reassignment-groups document:
//
//	groups:
//	  - name: senior-assessors
//	    members: [ava, ben, chloe]
//	    defaultAssignee: gus
//	    method: round_robin       # or broadcast
//	    offerTimeout: 30m         # default 1h
//
// Every problem is reported with file, line and field; nothing is returned unless
// the whole file is valid.
func ParseGroups(file string, data []byte) ([]policy.ReassignmentGroup, error) {
	doc, w, err := parseDocument(file, data, "empty groups file: want a mapping with a groups list")
	if err != nil {
		return nil, err
	}
	var groups []policy.ReassignmentGroup
	w.mapping(doc, "", map[string]func(*yaml.Node, string){
		"groups": func(n *yaml.Node, f string) {
			w.rows(n, f, func(row *yaml.Node, rf string) { groups = append(groups, w.group(row, rf)) })
		},
	})
	seen := map[string]int{}
	for i, g := range groups {
		if first, dup := seen[g.Name]; dup && g.Name != "" {
			w.errs = append(w.errs, &policy.FieldError{File: file, Line: g.Line, Field: fmt.Sprintf("groups[%d].name", i),
				Msg: fmt.Sprintf("group %q already defined at line %d", g.Name, first)})
		}
		seen[g.Name] = g.Line
	}
	if err := problems(w.errs); err != nil {
		return nil, err
	}
	return groups, nil
}

func (w *walker) group(n *yaml.Node, field string) policy.ReassignmentGroup {
	g := policy.ReassignmentGroup{Method: policy.GroupRoundRobin, OfferTimeout: policy.DefaultOfferTimeout, Line: n.Line}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"name":            func(v *yaml.Node, f string) { g.Name = w.ident(v, f) },
		"defaultAssignee": func(v *yaml.Node, f string) { g.DefaultAssignee = w.ident(v, f) },
		"offerTimeout":    func(v *yaml.Node, f string) { g.OfferTimeout = w.duration(v, f) },
		"method": func(v *yaml.Node, f string) {
			switch m := policy.GroupMethod(w.str(v, f)); m {
			case policy.GroupRoundRobin, policy.GroupBroadcast:
				g.Method = m
			default:
				w.fail(v, f, fmt.Sprintf("unknown distribution method %q: want round_robin or broadcast", m))
			}
		},
		"members": func(v *yaml.Node, f string) {
			if !w.isSequence(v, f) {
				return
			}
			// Never nil: a group written back out (GET /api/groups, a fuzz
			// round trip) must say "members": [], which reads back, not null.
			g.Members, g.MemberLines = []string{}, []int{}
			seen := map[string]bool{}
			for i, item := range v.Content {
				mf := fmt.Sprintf("%s[%d]", f, i)
				id := w.ident(item, mf)
				if seen[id] {
					w.fail(item, mf, fmt.Sprintf("user %q listed twice", id))
					continue
				}
				if id != "" {
					seen[id] = true
					g.Members = append(g.Members, id)
					g.MemberLines = append(g.MemberLines, item.Line)
				}
			}
		},
	})
	if n.Kind == yaml.MappingNode {
		for _, k := range []string{"name", "members", "defaultAssignee"} {
			if !w.hasKey(n, k) {
				w.fail(n, field+"."+k, "required")
			}
		}
		if g.Name == "" {
			w.notEmpty(n, field+".name", "name")
		}
		if g.DefaultAssignee == "" {
			w.notEmpty(n, field+".defaultAssignee", "defaultAssignee")
		}
	}
	return g
}
