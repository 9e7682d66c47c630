package deploycheck

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

const module = "github.com/batonhq/baton"

// The programs the image must hold, by binary name, and the package each is
// built from.
var programs = map[string]string{
	"worker":      "./worker",
	"starter":     "./starter",
	"healthcheck": "./cmd/healthcheck",
}

// ---------------------------------------------------------------------------
// docker-compose.yml, as far as these checks need it

type composeFile struct {
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       *buildSpec   `yaml:"build"`
	Entrypoint  stringOrList `yaml:"entrypoint"`
	Command     stringOrList `yaml:"command"`
	Environment environment  `yaml:"environment"`
	Ports       []portSpec   `yaml:"ports"`
	DependsOn   dependsOn    `yaml:"depends_on"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
	Restart     string       `yaml:"restart"`
	Volumes     []volumeSpec `yaml:"volumes"`
}

type buildSpec struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (b *buildSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain buildSpec
	return n.Decode((*plain)(b))
}

// stringOrList is a compose field that is either a list or a string Compose
// splits into words.
type stringOrList []string

func (s *stringOrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = strings.Fields(n.Value)
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

// environment is a compose environment: a mapping, or a list of KEY=VALUE.
type environment map[string]string

func (e *environment) UnmarshalYAML(n *yaml.Node) error {
	out := environment{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			out[n.Content[i].Value] = n.Content[i+1].Value // null: ""
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			k, v, _ := strings.Cut(c.Value, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("line %d: environment must be a mapping or a list", n.Line)
	}
	*e = out
	return nil
}

// portSpec is one ports entry; only the container side matters here.
type portSpec struct{ Container string }

func (p *portSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Target any `yaml:"target"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		p.Container = fmt.Sprint(long.Target)
		return nil
	}
	s, _, _ := strings.Cut(n.Value, "/") // 8080:8080/tcp
	parts := strings.Split(s, ":")       // [ip:]host:container or container
	p.Container = parts[len(parts)-1]
	return nil
}

type volumeSpec struct{ Source string }

func (v *volumeSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Source string `yaml:"source"`
		}
		err := n.Decode(&long)
		v.Source = long.Source
		return err
	}
	v.Source, _, _ = strings.Cut(n.Value, ":")
	return nil
}

// dependsOn maps each dependency to its condition.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out[c.Value] = "service_started"
		}
	case yaml.MappingNode:
		var long map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		for name, dep := range long {
			out[name] = cmp(dep.Condition, "service_started")
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	*d = out
	return nil
}

type healthcheck struct {
	Test    stringOrList `yaml:"test"`
	Disable bool         `yaml:"disable"`
}

func (h *healthcheck) UnmarshalYAML(n *yaml.Node) error {
	type plain healthcheck
	if err := n.Decode((*plain)(h)); err != nil {
		return err
	}
	// A string test runs in a shell, like ["CMD-SHELL", test].
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "test" && n.Content[i+1].Kind == yaml.ScalarNode {
			h.Test = stringOrList{"CMD-SHELL", n.Content[i+1].Value}
		}
	}
	if len(h.Test) == 1 && h.Test[0] == "NONE" {
		h.Disable = true
	}
	return nil
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ---------------------------------------------------------------------------
// The Dockerfile, as instructions grouped in stages

type instruction struct {
	Cmd  string // upper case: FROM, RUN, COPY...
	Args string
	Line int
}

type stage struct {
	Image, Name string
	Line        int
	Instrs      []instruction
}

type dockerfile struct {
	Stages   []stage
	Preamble []instruction // before the first FROM: only ARG is valid there
}

// parseDockerfile joins continuation lines, drops comments and groups the
// instructions by FROM.
func parseDockerfile(text string) dockerfile {
	var d dockerfile
	var cur *instruction
	flush := func() {
		if cur == nil {
			return
		}
		in := *cur
		cur = nil
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{Line: in.Line}
			if len(f) > 0 {
				st.Image = f[0]
			}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = f[2]
			}
			d.Stages = append(d.Stages, st)
			return
		}
		if len(d.Stages) == 0 {
			d.Preamble = append(d.Preamble, in)
			return
		}
		last := &d.Stages[len(d.Stages)-1]
		last.Instrs = append(last.Instrs, in)
	}
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") || (line == "" && cur == nil) {
			continue
		}
		cont := strings.HasSuffix(line, `\`)
		line = strings.TrimSpace(strings.TrimSuffix(line, `\`))
		if cur == nil {
			cmd, args, _ := strings.Cut(line, " ")
			cur = &instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: i + 1}
		} else if line != "" {
			cur.Args += " " + line
		}
		if !cont {
			flush()
		}
	}
	flush()
	return d
}

// execForm returns the JSON array of an instruction in exec form.
func execForm(args string) ([]string, bool) {
	var out []string
	if !strings.HasPrefix(strings.TrimSpace(args), "[") || json.Unmarshal([]byte(args), &out) != nil {
		return nil, false
	}
	return out, true
}

// flagsAndWords splits an instruction's arguments into --flags and the rest.
func flagsAndWords(args string) (map[string]string, []string) {
	flags := map[string]string{}
	var words []string
	for _, f := range strings.Fields(args) {
		if strings.HasPrefix(f, "--") && len(words) == 0 {
			k, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
			flags[k] = v
			continue
		}
		words = append(words, f)
	}
	return flags, words
}

// envPairs parses ENV KEY=VALUE [KEY=VALUE...] (or the legacy ENV KEY VALUE).
func envPairs(args string) map[string]string {
	out := map[string]string{}
	f := strings.Fields(args)
	if len(f) >= 2 && !strings.Contains(f[0], "=") {
		out[f[0]] = strings.Join(f[1:], " ")
		return out
	}
	for _, kv := range f {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = strings.Trim(v, `"'`)
	}
	return out
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Instrs {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s stage) env() map[string]string {
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		for k, v := range envPairs(in.Args) {
			out[k] = v
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The deployment: both files and the repository they deploy

type deployment struct {
	root    string
	text    string // docker-compose.yml
	compose composeFile
	docker  dockerfile
	goMod   string
}
