package yamlfile

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/policy"
)

func (w *walker) eligibility(n *yaml.Node, field string) policy.Eligibility {
	var e policy.Eligibility
	list := func(v *yaml.Node, f string) []string {
		var out []string
		if !w.isSequence(v, f) {
			return nil
		}
		for i, item := range v.Content {
			if s := w.ident(item, fmt.Sprintf("%s[%d]", f, i)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	w.mapping(n, field, map[string]func(*yaml.Node, string){
		"tagsOneOf":       func(v *yaml.Node, f string) { e.TagsOneOf = list(v, f) },
		"tagsAllOf":       func(v *yaml.Node, f string) { e.TagsAllOf = list(v, f) },
		"stateCredential": func(v *yaml.Node, f string) { e.StateCredential = w.boolean(v, f) },
		"careTeam":        func(v *yaml.Node, f string) { e.CareTeam = w.boolean(v, f) },
	})
	return e
}
