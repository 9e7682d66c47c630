package deploycheck

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/config"
)

func newDeployment(root, composeText, dockerText, goMod string) (*deployment, error) {
	d := &deployment{root: root, text: composeText, docker: parseDockerfile(dockerText), goMod: goMod}
	dec := yaml.NewDecoder(strings.NewReader(composeText))
	if err := dec.Decode(&d.compose); err != nil {
		return nil, fmt.Errorf("docker-compose.yml: %w", err)
	}
	if len(d.compose.Services) == 0 {
		return nil, fmt.Errorf("docker-compose.yml: no services")
	}
	for name, s := range d.compose.Services {
		if s == nil {
			return nil, fmt.Errorf("docker-compose.yml: service %s is empty", name)
		}
	}
	return d, nil
}

func (d *deployment) names() []string {
	out := make([]string, 0, len(d.compose.Services))
	for n := range d.compose.Services {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// builds reports whether a service builds the repository's Dockerfile.
func (d *deployment) builds(name string) bool {
	b := d.compose.Services[name].Build
	return b != nil && path.Clean(cmp(b.Context, ".")) == "." && path.Clean(cmp(b.Dockerfile, "Dockerfile")) == "Dockerfile"
}

// builtHere reports whether a service runs the repository's image: it builds
// the Dockerfile, or has no build and uses the image another service builds.
func (d *deployment) builtHere(name string) bool {
	if d.builds(name) {
		return true
	}
	s := d.compose.Services[name]
	if s.Build != nil || s.Image == "" {
		return false
	}
	for other, o := range d.compose.Services {
		if other != name && o.Image == s.Image && d.builds(other) {
			return true
		}
	}
	return false
}

// baton lists the services that run Baton's image.
func (d *deployment) baton() []string {
	var out []string
	for _, n := range d.names() {
		if d.builtHere(n) {
			out = append(out, n)
		}
	}
	return out
}

func (d *deployment) final() stage {
	if len(d.docker.Stages) == 0 {
		return stage{}
	}
	return d.docker.Stages[len(d.docker.Stages)-1]
}

// imageFiles maps each path the final image holds to where it comes from:
// "bin:NAME" for a binary of the build stage, or a repository path.
func (d *deployment) imageFiles() map[string]string {
	out := map[string]string{}
	for _, in := range d.final().all("COPY") {
		flags, words := flagsAndWords(in.Args)
		if len(words) < 2 {
			continue
		}
		dest, srcs := words[len(words)-1], words[:len(words)-1]
		for _, src := range srcs {
			target := dest
			if strings.HasSuffix(dest, "/") && !strings.HasSuffix(src, "/") {
				target = path.Join(dest, path.Base(src))
			}
			target = path.Clean(target)
			if flags["from"] != "" {
				out[target] = "bin:" + path.Base(src)
			} else {
				out[target] = path.Clean(src)
			}
		}
	}
	return out
}

// repoPath returns the repository file an absolute path in the image is copied
// from, when it is copied from the repository.
func (d *deployment) repoPath(p string) (string, bool) {
	p = path.Clean(p)
	for dest, src := range d.imageFiles() {
		if strings.HasPrefix(src, "bin:") {
			continue
		}
		if p == dest {
			return src, true
		}
		if rest, ok := strings.CutPrefix(p, dest+"/"); ok {
			return path.Join(src, rest), true
		}
	}
	return "", false
}

// binaries lists the executables in the final image (path → binary name).
func (d *deployment) binaries() map[string]string {
	out := map[string]string{}
	for dest, src := range d.imageFiles() {
		if name, ok := strings.CutPrefix(src, "bin:"); ok {
			out[dest] = name
		}
	}
	return out
}

// run is what a Baton service's container executes: its entrypoint and command.
func (d *deployment) run(name string) (entrypoint, command []string) {
	s := d.compose.Services[name]
	if len(s.Entrypoint) > 0 {
		return s.Entrypoint, s.Command
	}
	var ep, cmd []string
	for _, in := range d.final().all("ENTRYPOINT") {
		ep, _ = execForm(in.Args)
	}
	for _, in := range d.final().all("CMD") {
		cmd, _ = execForm(in.Args)
	}
	if len(s.Command) > 0 {
		cmd = s.Command
	}
	return ep, cmd
}

// program is the binary a Baton service runs and its first argument.
func (d *deployment) program(name string) (bin, sub string) {
	ep, cmd := d.run(name)
	all := append(slices.Clone(ep), cmd...)
	if len(all) == 0 {
		return "", ""
	}
	bin = d.binaries()[path.Clean(all[0])]
	if len(all) > 1 {
		sub = all[1]
	}
	return bin, sub
}

// env is a Baton service's effective environment: the image's, then its own.
func (d *deployment) env(name string) map[string]string {
	out := d.final().env()
	for k, v := range d.compose.Services[name].Environment {
		out[k] = v
	}
	return out
}

func (d *deployment) config(name string) (config.Config, error) {
	env := d.env(name)
	return config.Load("", func(k string) string { return env[k] })
}

// needsTemporal: the worker and every starter command but the database-only ones.
func (d *deployment) needsTemporal(name string) bool {
	bin, sub := d.program(name)
	return bin == "worker" || (bin == "starter" && sub != "directory" && sub != "migrate")
}

func (d *deployment) containerPorts(name string) []string {
	var out []string
	for _, p := range d.compose.Services[name].Ports {
		out = append(out, p.Container)
	}
	return out
}

// healthURL is the URL a healthcheck probes, if it names one.
func healthURL(test []string) (*url.URL, bool) {
	for _, w := range test {
		for _, f := range strings.Fields(w) {
			if strings.HasPrefix(f, "http://") || strings.HasPrefix(f, "https://") {
				u, err := url.Parse(strings.Trim(f, `"'`))
				return u, err == nil
			}
		}
	}
	return nil, false
}

var healthcheckArgs = regexp.MustCompile(`(?is)^(?:--\S+\s+)*(CMD|NONE)\b\s*(.*)$`)

// imageHealthcheck is the Dockerfile's (last) HEALTHCHECK command, and whether it
// is in exec form.
func (d *deployment) imageHealthcheck() (cmd []string, exec bool, ok bool) {
	for _, in := range d.final().all("HEALTHCHECK") {
		m := healthcheckArgs.FindStringSubmatch(in.Args)
		switch {
		case m == nil || strings.EqualFold(m[1], "NONE"):
			cmd, exec, ok = nil, false, false
		default:
			if c, isExec := execForm(m[2]); isExec {
				cmd, exec, ok = c, true, true
			} else {
				cmd, exec, ok = strings.Fields(m[2]), false, true
			}
		}
	}
	return cmd, exec, ok
}

// hasHealthcheck reports whether a service has a healthcheck Compose can wait on.
func (d *deployment) hasHealthcheck(name string) bool {
	if hc := d.compose.Services[name].Healthcheck; hc != nil {
		if hc.Disable {
			return false
		}
		if len(hc.Test) > 0 {
			return true
		}
	}
	_, _, ok := d.imageHealthcheck()
	return d.builtHere(name) && ok // the image's HEALTHCHECK
}

// script is a service's shell script, when it runs one (sh -c SCRIPT).
func (d *deployment) script(name string) string {
	s := d.compose.Services[name]
	return strings.Join(append(slices.Clone(s.Entrypoint), s.Command...), "\n")
}

// registrars lists the services that register search attributes.
func (d *deployment) registrars() []string {
	var out []string
	for _, n := range d.names() {
		if createCmd.MatchString(d.script(n)) {
			out = append(out, n)
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The checks. Each returns the problems it finds, one sentence each.
