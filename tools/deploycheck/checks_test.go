package deploycheck

import (
	"fmt"
	"go/build"
	"maps"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/batonhq/baton/config"
	"github.com/batonhq/baton/workflows"
)

// deployment is what the checks read from docker-compose.yml and the Dockerfile.
type deployment struct {
	root     string
	services map[string]service
	// From the Dockerfile; env, copies and installed are the final stage's.
	env       map[string]string // ENV
	copies    map[string]string // COPY without --from: repository source -> destination
	installed map[string]string // COPY --from into /usr/local/bin: installed path -> built path
	built     map[string]string // go build: output path -> package
	packages  []string          // go build's packages, in order
	runs      []string          // ENTRYPOINT and HEALTHCHECK lines
}

type service struct {
	build   bool              // has a build: key
	env     map[string]string // environment
	scalars []string          // every string under the service, in file order
}

func load(root, composeText, dockerText string) (*deployment, error) {
	var doc struct{ Services map[string]yaml.Node }
	if err := yaml.Unmarshal([]byte(composeText), &doc); err != nil {
		return nil, fmt.Errorf("docker-compose.yml: %w", err)
	}
	d := &deployment{root: root, services: map[string]service{}, built: map[string]string{}}
	for name, n := range doc.Services {
		var s struct {
			Build       yaml.Node
			Environment map[string]string
		}
		if err := n.Decode(&s); err != nil {
			return nil, fmt.Errorf("docker-compose.yml: service %s: %w", name, err)
		}
		d.services[name] = service{build: !s.Build.IsZero(), env: s.Environment, scalars: scalars(&n)}
	}
	for _, line := range instructions(dockerText) {
		d.read(line)
	}
	return d, nil
}

func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

// instructions drops the Dockerfile's comments and joins its backslash
// continuations: one instruction a line.
func instructions(text string) []string {
	var kept []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			kept = append(kept, l)
		}
	}
	return strings.Split(strings.ReplaceAll(strings.Join(kept, "\n"), "\\\n", " "), "\n")
}

// read reads the one Dockerfile instruction line if it is one the checks need.
func (d *deployment) read(line string) {
	word, args, _ := strings.Cut(line, " ")
	f := strings.Fields(args)
	switch word = strings.ToUpper(word); word {
	case "FROM": // a new stage: only the last one's ENV and COPY make the image
		d.env, d.copies, d.installed = map[string]string{}, map[string]string{}, map[string]string{}
	case "ENV":
		for _, kv := range f {
			k, v, _ := strings.Cut(kv, "=")
			d.env[k] = strings.Trim(v, `"`)
		}
	case "COPY":
		from := slices.ContainsFunc(f, func(s string) bool { return strings.HasPrefix(s, "--from=") })
		f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--") })
		for _, src := range f[:max(len(f)-1, 0)] {
			if dst := f[len(f)-1]; !from {
				d.copies[src] = dst
			} else if strings.HasPrefix(dst, "/usr/local/bin/") {
				d.installed[path.Join(dst, path.Base(src))] = src
			}
		}
	case "RUN": // go build -o dir/ ./pkg...: each binary is dir/<last element of pkg>
		_, cmd, _ := strings.Cut(args, "go build ") // "" when this RUN builds nothing
		cmd, _, _ = strings.Cut(cmd, "&&")
		ws, out, first := strings.Fields(cmd), "", len(d.packages)
		for i, w := range ws {
			if i > 0 && ws[i-1] == "-o" {
				out = w
			} else if strings.HasPrefix(w, "./") {
				d.packages = append(d.packages, w)
			}
		}
		for _, p := range d.packages[first:] {
			d.built[path.Join(out, path.Base(p))] = p
		}
	case "ENTRYPOINT", "HEALTHCHECK":
		d.runs = append(d.runs, word+" "+args)
	}
}

// baton lists the services that run Baton's image: those named baton-*, and
// any that builds the Dockerfile whatever its name.
func (d *deployment) baton() []string {
	return slices.DeleteFunc(sorted(d.services), func(n string) bool { return !strings.HasPrefix(n, "baton-") && !d.services[n].build })
}

// environ is a Baton service's environment inside the container.
func (d *deployment) environ(name string) map[string]string {
	env := maps.Clone(d.env)
	maps.Copy(env, d.services[name].env)
	return env
}

// report collects problems, each naming the file, the service and the field.
type report []string

func (r *report) addf(format string, args ...any) { *r = append(*r, fmt.Sprintf(format, args...)) }

func problems(d *deployment) []string {
	var r report
	for _, check := range []func(*report){d.checkEnvironment, d.checkSearchAttributes, d.checkBinaries, d.checkPaths} {
		check(&r)
	}
	return r
}

// checkEnvironment: Docker passes any variable on; only config knows Baton's.
func (d *deployment) checkEnvironment(r *report) {
	known := map[string]bool{}
	for _, f := range config.Fields() {
		known[f.Env] = true
	}
	for _, k := range sorted(d.env) {
		if !known[k] {
			r.addf("Dockerfile: ENV %s is not a Baton setting (config.Fields)", k)
		}
	}
	for _, name := range d.baton() {
		where := "docker-compose.yml: service " + name
		for _, k := range sorted(d.services[name].env) {
			if !known[k] {
				r.addf("%s: environment %s is not a Baton setting (config.Fields)", where, k)
			}
		}
		env := d.environ(name)
		if _, err := config.Load("", func(k string) string { return env[k] }); err != nil {
			r.addf("%s: its environment (with the image's ENV) does not load: %v", where, err)
		}
		for _, v := range []string{"TEMPORAL_ADDRESS", "DATABASE_URL"} {
			if _, ok := d.services[host(env[v])]; env[v] != "" && !ok {
				r.addf("%s: %s host %q is not a compose service", where, v, host(env[v]))
			}
		}
	}
}

// host is the host of a URL or of a host:port.
func host(s string) string {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u.Hostname()
	}
	h, _, _ := net.SplitHostPort(s)
	return h
}

const registrar = "temporal-admin-tools"

var (
	createRE = regexp.MustCompile(`search-attribute create\b.*`)
	nameRE   = regexp.MustCompile(`--name[ =]"?(\$*\{?)(\w+)`)
	typeRE   = regexp.MustCompile(`--type[ =]"?(\w+)`)
	loopRE   = regexp.MustCompile(`for (\w+) in ([^;\n]*);`)
)

// registered returns the search attributes a script creates, in order, and the
// type of each; a --name "$$var" takes the words of the script's `for var in`.
func registered(script string) (names, types []string) {
	loops := map[string][]string{}
	for _, m := range loopRE.FindAllStringSubmatch(script, -1) {
		loops[m[1]] = strings.Fields(m[2])
	}
	for _, line := range createRE.FindAllString(script, -1) {
		// Padded, so that a create without --name or --type reports an empty one.
		n, t := append(nameRE.FindStringSubmatch(line), "", "", ""), append(typeRE.FindStringSubmatch(line), "", "")
		each := []string{n[2]}
		if n[1] != "" {
			each = loops[n[2]]
		}
		for _, name := range each {
			names, types = append(names, name), append(types, t[1])
		}
	}
	return names, types
}

// checkSearchAttributes: a worker refuses to start without every attribute.
func (d *deployment) checkSearchAttributes(r *report) {
	s, ok := d.services[registrar]
	if !ok {
		r.addf("docker-compose.yml: no service %s registers the search attributes", registrar)
		return
	}
	where := "docker-compose.yml: service " + registrar
	names, types := registered(strings.Join(s.scalars, "\n"))
	for i, n := range names {
		if !slices.Contains(workflows.SearchAttributeNames, n) {
			r.addf("%s: registers %q, which is not in workflows.SearchAttributeNames", where, n)
		} else if slices.Index(names, n) < i {
			r.addf("%s: registers %s twice", where, n)
		}
		if types[i] != "Keyword" {
			r.addf("%s: registers %s as %q, want --type Keyword", where, n, types[i])
		}
	}
	for _, n := range workflows.SearchAttributeNames {
		if !slices.Contains(names, n) {
			r.addf("%s: does not register %s (workflows.SearchAttributeNames)", where, n)
		}
	}
}

// checkBinaries: the image must hold the programs that the files run.
func (d *deployment) checkBinaries(r *report) {
	for _, p := range d.packages {
		if !isMain(filepath.Join(d.root, p)) {
			r.addf("Dockerfile: go build builds %s, which is not a directory of package main in the repository", p)
		}
	}
	for _, bin := range sorted(d.built) {
		if !slices.Contains(slices.Collect(maps.Values(d.installed)), bin) {
			r.addf("Dockerfile: go build builds %s as %s, but no COPY --from installs it in /usr/local/bin", d.built[bin], bin)
		}
	}
	for _, dst := range sorted(d.installed) {
		if _, ok := d.built[d.installed[dst]]; !ok {
			r.addf("Dockerfile: COPY --from installs %s as %s, but go build does not build it", d.installed[dst], dst)
		}
	}
}

func isMain(dir string) bool {
	p, err := build.ImportDir(dir, 0)
	return err == nil && p.Name == "main"
}

// ref is a string a Baton container runs or is given, and where it is from.
type ref struct{ where, text string }

func (d *deployment) refs() []ref {
	var out []ref
	for _, name := range d.baton() {
		for _, s := range d.services[name].scalars {
			out = append(out, ref{"docker-compose.yml: service " + name, s})
		}
	}
	for _, r := range d.runs {
		out = append(out, ref{"Dockerfile: " + strings.Fields(r)[0], r})
	}
	for _, k := range sorted(d.env) {
		out = append(out, ref{"Dockerfile: ENV " + k, d.env[k]})
	}
	return out
}

var (
	binRE = regexp.MustCompile(`/usr/local/bin/[\w.-]+`)
	etcRE = regexp.MustCompile(`/etc/baton/[\w./-]+`)
)

// checkPaths: every program run and /etc/baton file named must be in the image.
func (d *deployment) checkPaths(r *report) {
	for _, ref := range d.refs() {
		for _, p := range binRE.FindAllString(ref.text, -1) {
			if _, ok := d.installed[p]; !ok {
				r.addf("%s: runs %s, which the Dockerfile does not install", ref.where, p)
			}
		}
		for _, p := range etcRE.FindAllString(ref.text, -1) {
			if src, ok := d.repoFile(p); !ok {
				r.addf("%s: %s is not copied into the image by any Dockerfile COPY", ref.where, p)
			} else if fi, err := os.Stat(filepath.Join(d.root, src)); err != nil || !fi.Mode().IsRegular() {
				r.addf("%s: %s would come from %s, which is not a file in the repository", ref.where, p, src)
			}
		}
	}
}

// repoFile maps a path in the image back through the COPY lines to the
// repository file it comes from.
func (d *deployment) repoFile(p string) (string, bool) {
	for _, src := range sorted(d.copies) {
		dst := d.copies[src]
		if fi, err := os.Stat(filepath.Join(d.root, src)); err == nil && fi.IsDir() {
			if rel, ok := strings.CutPrefix(p, strings.TrimSuffix(dst, "/")+"/"); ok {
				return path.Join(src, rel), true
			}
		} else if p == dst || strings.HasSuffix(dst, "/") && p == dst+path.Base(src) {
			return src, true
		}
	}
	return "", false
}

func sorted[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
