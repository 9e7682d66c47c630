package yamlfile

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

// LoadSampleClaims reads a what-if claims file:
//
//	claims:
//	  - id: c1
//	    owner: ava
//	    data: {customer_group: VIP, state: CA}
//	    stages: [capture, review]   # default: every assignable stage
//	    outcome: approval           # for acknowledge
//	    recentHost: ben             # stands in for the subject's recorded host
func LoadSampleClaims(path string) ([]policy.SampleClaim, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read claims file: %w", err)
	}
	return ParseSampleClaims(path, data)
}

// ParseSampleClaims parses a what-if claims document (see LoadSampleClaims).
// Every problem is reported with file, line and field; nothing is returned unless
// the whole document is valid.
func ParseSampleClaims(file string, data []byte) ([]policy.SampleClaim, error) {
	doc, w, err := parseDocument(file, data, "empty claims file: want a mapping with a claims list")
	if err != nil {
		return nil, err
	}
	var out []policy.SampleClaim
	w.mapping(doc, "", map[string]func(*yaml.Node, string){
		"claims": func(n *yaml.Node, f string) {
			w.rows(n, f, func(row *yaml.Node, rf string) { out = append(out, w.sample(row, rf)) })
		},
	})
	if err := problems(w.errs); err != nil {
		return nil, err
	}
	return out, nil
}

func (w *walker) sample(n *yaml.Node, field string) policy.SampleClaim {
	s := policy.SampleClaim{Claim: policy.Claim{Data: map[string]string{}}}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":         func(v *yaml.Node, f string) { s.ID = w.ident(v, f) },
		"owner":      func(v *yaml.Node, f string) { s.Owner = w.ident(v, f) },
		"recentHost": func(v *yaml.Node, f string) { s.RecentHost = w.ident(v, f) },
		"outcome": func(v *yaml.Node, f string) {
			o, err := policy.ParseOutcome(w.str(v, f))
			if err != nil {
				w.fail(v, f, err.Error())
			}
			s.Outcome = o
		},
		"stages": func(v *yaml.Node, f string) {
			for i, st := range w.identList(v, f) {
				stage, err := policy.ParseStage(st)
				if err != nil || !stage.Assignable() {
					w.fail(v, fmt.Sprintf("%s[%d]", f, i), fmt.Sprintf("want capture, review or acknowledge, got %q", st))
					continue
				}
				s.Stages = append(s.Stages, stage)
			}
		},
		"data": func(v *yaml.Node, f string) {
			if !w.isMapping(v, f) {
				return
			}
			for i := 0; i+1 < len(v.Content); i += 2 {
				s.Data[v.Content[i].Value] = w.str(v.Content[i+1], f+"."+v.Content[i].Value)
			}
		},
	})
	if s.ID == "" && n.Kind == yaml.MappingNode {
		w.fail(n, field+".id", "required")
	}
	return s
}
