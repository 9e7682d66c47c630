package deploycheck

import (
	"fmt"
	"go/build"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/batonhq/baton/workflows"
)

// checkImagePaths: every /etc/baton path the compose file names is in the image
// and exists in the repository.
func checkImagePaths(d *deployment) problems {
	var p problems
	for _, n := range d.baton() {
		s := d.compose.Services[n]
		var vals []string
		for _, k := range keys(s.Environment) {
			vals = append(vals, s.Environment[k])
		}
		vals = append(append(vals, s.Entrypoint...), s.Command...)
		for _, v := range vals {
			if !strings.HasPrefix(v, "/etc/baton") {
				continue
			}
			src, ok := d.repoPath(v)
			if !ok {
				p.addf("%s: %s is not copied into the image", n, v)
				continue
			}
			if fi, err := os.Stat(filepath.Join(d.root, filepath.FromSlash(src))); err != nil || fi.IsDir() {
				p.addf("%s: %s comes from %s, which is not a file in the repository", n, v, src)
			}
		}
	}
	if bin, sub := d.program("baton-directory"); bin == "starter" && sub == "directory" {
		_, cmd := d.run("baton-directory")
		if i := slices.Index(cmd, "load"); i < 0 || i+1 >= len(cmd) {
			p.addf("baton-directory: want starter directory load FILE, runs %q", cmd)
		}
	}
	if cfg, err := d.config("baton-worker"); err == nil && cfg.PolicyFile == "" {
		p.addf("baton-worker: no BATON_POLICY_FILE: the stack would run with assignments disabled")
	}
	return p
}

var (
	goDirective = regexp.MustCompile(`(?m)^go (\d+\.\d+)`)
	copyAll     = regexp.MustCompile(`^(--\S+\s+)*\.\s+\.`)
	ldflags     = regexp.MustCompile(`-ldflags=["']-s -w["']`)
	secret      = regexp.MustCompile(`(?i)password|secret|token|credential|_key$|^database_url$`)
)

// checkDockerfile: two stages, a Go build that fits go.mod, a cached module
// layer, every program built and copied, a non-root distroless final stage.
func checkDockerfile(d *deployment) problems {
	var p problems
	if len(d.docker.Stages) < 2 {
		return append(p, fmt.Sprintf("Dockerfile: %d FROM, want two stages: a build stage and a final stage", len(d.docker.Stages)))
	}
	b, f := d.docker.Stages[0], d.final()
	for _, in := range d.docker.Preamble {
		if in.Cmd != "ARG" {
			p.addf("Dockerfile:%d: %s before the first FROM", in.Line, in.Cmd)
		}
	}

	// the build stage
	repo, tag, _ := strings.Cut(b.Image, ":")
	if repo != "golang" {
		p.addf("Dockerfile:%d: build stage FROM %s, want golang", b.Line, b.Image)
	}
	if m := goDirective.FindStringSubmatch(d.goMod); m == nil {
		p.addf("go.mod: no go directive")
	} else if tag != m[1] && !strings.HasPrefix(tag, m[1]+"-") && !strings.HasPrefix(tag, m[1]+".") {
		p.addf("Dockerfile:%d: FROM %s does not match go.mod's go %s (the image sets GOTOOLCHAIN=local)", b.Line, b.Image, m[1])
	}
	order := map[string]int{}
	var buildRun *instruction
	for i, in := range b.Instrs {
		switch {
		case in.Cmd == "COPY" && strings.Contains(in.Args, "go.mod") && strings.Contains(in.Args, "go.sum"):
			order["mod"] = i + 1
		case in.Cmd == "RUN" && strings.Contains(in.Args, "go mod download"):
			order["download"] = i + 1
		case in.Cmd == "COPY" && copyAll.MatchString(in.Args):
			order["all"] = i + 1
		case in.Cmd == "RUN" && strings.Contains(in.Args, "go build"):
			buildRun = &in
			order["build"] = i + 1
		}
	}
	if !(order["mod"] > 0 && order["mod"] < order["download"] && order["download"] < order["all"] && order["all"] < order["build"]) {
		p.addf("Dockerfile: want COPY go.mod go.sum, RUN go mod download, COPY . ., RUN go build in that order (so the modules are their own cached layer); found %v", order)
	}
	if buildRun == nil {
		return append(p, "Dockerfile: the build stage runs no go build")
	}
	if b.env()["CGO_ENABLED"] != "0" && !strings.Contains(buildRun.Args, "CGO_ENABLED=0") {
		p.addf("Dockerfile:%d: build without CGO_ENABLED=0: the binary would need libc, which distroless/static lacks", buildRun.Line)
	}
	if !strings.Contains(buildRun.Args, "-trimpath") {
		p.addf("Dockerfile:%d: go build without -trimpath", buildRun.Line)
	}
	if !ldflags.MatchString(buildRun.Args) {
		p.addf(`Dockerfile:%d: go build without -ldflags="-s -w"`, buildRun.Line)
	}
	built := map[string]string{} // binary name → package
	words := strings.Fields(buildRun.Args)
	outDir := ""
	for i, w := range words {
		if strings.HasPrefix(w, "./") {
			built[path.Base(w)] = path.Clean(w)
		}
		if w == "-o" && i+1 < len(words) {
			outDir = words[i+1]
		}
	}
	if !strings.HasSuffix(outDir, "/") {
		p.addf("Dockerfile:%d: go build -o %q: with several packages -o must be a directory ending in /", buildRun.Line, outDir)
	}
	for bin, pkg := range programs {
		if built[bin] != path.Clean(pkg) {
			p.addf("Dockerfile:%d: go build does not build %s (%s)", buildRun.Line, pkg, bin)
		}
	}
	for bin, pkg := range built {
		bp, err := build.ImportDir(filepath.Join(d.root, filepath.FromSlash(pkg)), 0)
		if err != nil || bp.Name != "main" {
			p.addf("Dockerfile:%d: %s (%s) is not a main package in the repository", buildRun.Line, pkg, bin)
		}
	}

	// the final stage
	if !strings.HasPrefix(f.Image, "gcr.io/distroless/") {
		p.addf("Dockerfile:%d: final stage FROM %s, want gcr.io/distroless/static-debian12:nonroot", f.Line, f.Image)
	}
	have := d.binaries()
	for bin := range programs {
		if have["/usr/local/bin/"+bin] != bin {
			p.addf("Dockerfile: the final stage does not copy %s to /usr/local/bin/%s", bin, bin)
		}
	}
	for _, in := range f.all("COPY") {
		flags, words := flagsAndWords(in.Args)
		if from := flags["from"]; from != "" {
			if from != b.Name {
				p.addf("Dockerfile:%d: COPY --from=%s, but the build stage is named %q", in.Line, from, b.Name)
			}
			for _, src := range words[:max(len(words)-1, 0)] {
				if !strings.HasPrefix(src, outDir) || built[path.Base(src)] == "" {
					p.addf("Dockerfile:%d: copies %s, which go build does not write", in.Line, src)
				}
			}
		}
	}
	if src, ok := d.repoPath("/etc/baton/examples/directory.yaml"); !ok || src != "examples/directory.yaml" {
		p.addf("Dockerfile: examples/ must be copied to /etc/baton/examples")
	}
	user := ""
	for _, in := range f.all("USER") {
		user = strings.TrimSpace(in.Args)
	}
	name, _, _ := strings.Cut(user, ":")
	switch {
	case user == "" && !strings.HasSuffix(f.Image, ":nonroot"):
		p.addf("Dockerfile: the final stage runs as root: set USER 65532:65532 or use the :nonroot image")
	case user != "" && (name == "root" || name == "0"):
		p.addf("Dockerfile: the final stage runs as root (USER %s)", user)
	}
	exposed := map[string]bool{}
	for _, in := range f.all("EXPOSE") {
		for _, w := range strings.Fields(in.Args) {
			port, _, _ := strings.Cut(w, "/")
			exposed[port] = true
		}
	}
	for _, n := range d.baton() {
		for _, port := range d.containerPorts(n) {
			if !exposed[port] {
				p.addf("Dockerfile: does not EXPOSE %s, which %s publishes", port, n)
			}
		}
	}
	var ep []string
	for _, in := range f.all("ENTRYPOINT") {
		var ok bool
		if ep, ok = execForm(in.Args); !ok {
			p.addf("Dockerfile:%d: ENTRYPOINT must be exec form: the image has no shell", in.Line)
		}
	}
	if !slices.Equal(ep, []string{"/usr/local/bin/worker"}) {
		p.addf(`Dockerfile: ENTRYPOINT %q, want ["/usr/local/bin/worker"]`, ep)
	}
	hc, exec, ok := d.imageHealthcheck()
	switch {
	case !ok:
		p.addf("Dockerfile: no HEALTHCHECK")
	case !exec:
		p.addf("Dockerfile: HEALTHCHECK must be exec form (CMD [...]): the image has no shell")
	case len(hc) < 2 || have[path.Clean(hc[0])] != "healthcheck":
		p.addf("Dockerfile: HEALTHCHECK runs %q, want /usr/local/bin/healthcheck URL", hc)
	default:
		u, err := url.Parse(hc[1])
		_, metricsPort, _ := net.SplitHostPort(f.env()["BATON_METRICS_ADDRESS"])
		switch {
		case err != nil || u.Path != "/healthz" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost"):
			p.addf("Dockerfile: HEALTHCHECK probes %s, want http://127.0.0.1:PORT/healthz", hc[1])
		case u.Port() != metricsPort:
			p.addf("Dockerfile: HEALTHCHECK probes port %s, but the image's BATON_METRICS_ADDRESS port is %q", u.Port(), metricsPort)
		case !exposed[u.Port()]:
			p.addf("Dockerfile: HEALTHCHECK probes port %s, which is not EXPOSEd", u.Port())
		}
	}
	for _, st := range d.docker.Stages {
		for _, in := range st.Instrs {
			if in.Cmd != "ENV" && in.Cmd != "ARG" {
				continue
			}
			for k := range envPairs(in.Args) {
				if secret.MatchString(k) {
					p.addf("Dockerfile:%d: %s %s: the image must hold no secrets; pass them at run time", in.Line, in.Cmd, k)
				}
			}
		}
	}
	return p
}

var (
	forLoop     = regexp.MustCompile(`for\s+(\w+)\s+in\s+([^;\n]*?)\s*;\s*do`)
	createCmd   = regexp.MustCompile(`temporal\s+operator\s+search-attribute\s+create\b([^\n]*)`)
	nameFlag    = regexp.MustCompile(`--name[= ]"?([^\s"]+)"?`)
	typeFlag    = regexp.MustCompile(`--type[= ]"?([^\s"]+)"?`)
	nsFlag      = regexp.MustCompile(`(?:--namespace|-n)[= ]"?([^\s"]+)"?`)
	shellVar    = regexp.MustCompile(`^\$\$?\{?(\w+)\}?$`)
	batonSAWord = regexp.MustCompile(`\bBaton[A-Z]\w*`)
)

// registeredSearchAttributes parses the names, types and namespaces of the
// search-attribute create commands in a script.
func registeredSearchAttributes(script string) (names, types, namespaces []string, err error) {
	script = strings.ReplaceAll(script, "\\\n", " ")
	loops := map[string][]string{}
	for _, m := range forLoop.FindAllStringSubmatch(script, -1) {
		loops[m[1]] = strings.Fields(m[2])
	}
	for _, m := range createCmd.FindAllStringSubmatch(script, -1) {
		args := m[1]
		ns := nsFlag.FindAllStringSubmatch(args, -1)
		if len(ns) != 1 {
			return nil, nil, nil, fmt.Errorf("%q: want exactly one --namespace", m[0])
		}
		namespaces = append(namespaces, ns[0][1])
		nm, ty := nameFlag.FindAllStringSubmatch(args, -1), typeFlag.FindAllStringSubmatch(args, -1)
		if len(nm) == 0 || len(nm) != len(ty) {
			return nil, nil, nil, fmt.Errorf("%q: want one --type per --name", m[0])
		}
		for i, n := range nm {
			vals := []string{n[1]}
			if v := shellVar.FindStringSubmatch(n[1]); v != nil {
				if vals = loops[v[1]]; vals == nil {
					return nil, nil, nil, fmt.Errorf("%q: --name %s is no for-loop variable", m[0], n[1])
				}
			}
			for range vals {
				types = append(types, ty[i][1])
			}
			names = append(names, vals...)
		}
	}
	return names, types, namespaces, nil
}

// checkSearchAttributes: one job registers exactly workflows.SearchAttributeNames,
// all Keyword, in the namespace the worker and the API use.
func checkSearchAttributes(d *deployment) problems {
	var p problems
	regs := d.registrars()
	if len(regs) != 1 {
		return append(p, fmt.Sprintf("want exactly one service running temporal operator search-attribute create, found %v", regs))
	}
	n := regs[0]
	s := d.compose.Services[n]
	if !strings.HasPrefix(s.Image, "temporalio/admin-tools:") {
		p.addf("%s: image %s, want temporalio/admin-tools (it has the temporal CLI)", n, s.Image)
	}
	if s.Restart != "on-failure" && !strings.HasPrefix(s.Restart, "on-failure:") {
		p.addf("%s: restart %q, want on-failure: the job must end, and retry if Temporal was not ready", n, s.Restart)
	}
	if len(s.Entrypoint) < 2 || !strings.HasSuffix(s.Entrypoint[0], "sh") || s.Entrypoint[len(s.Entrypoint)-1] != "-c" || len(s.Command) != 1 {
		p.addf("%s: want entrypoint [\"/bin/sh\", \"-c\"] and the script as the command's only item (a string command would be split into words); has %q %q", n, s.Entrypoint, s.Command)
	}
	names, types, namespaces, err := registeredSearchAttributes(d.script(n))
	if err != nil {
		return append(p, fmt.Sprintf("%s: %v", n, err))
	}
	got := slices.Sorted(slices.Values(names))
	want := slices.Sorted(slices.Values(workflows.SearchAttributeNames))
	if !slices.Equal(got, want) {
		p.addf("%s: registers search attributes %v, want exactly workflows.SearchAttributeNames %v", n, names, workflows.SearchAttributeNames)
	}
	for i, ty := range types {
		if ty != "Keyword" {
			p.addf("%s: registers %s as %s, want Keyword", n, names[i], ty)
		}
	}
	for _, word := range batonSAWord.FindAllString(d.script(n), -1) {
		if !slices.Contains(workflows.SearchAttributeNames, word) {
			p.addf("%s: the script names %s, which is not a Baton search attribute", n, word)
		}
	}
	for _, b := range d.baton() {
		if !d.needsTemporal(b) {
			continue
		}
		cfg, err := d.config(b)
		if err != nil {
			continue // reported by checkBatonEnvironment
		}
		for _, ns := range namespaces {
			if ns != cfg.Namespace {
				p.addf("%s: registers the search attributes in namespace %s, but %s uses %s", n, ns, b, cfg.Namespace)
			}
		}
	}
	return p
}

// checkInterpolation: Compose substitutes $NAME and ${NAME} itself; a shell
// variable must be written $$NAME.
func checkInterpolation(d *deployment) problems {
	var p problems
	for i, line := range strings.Split(d.text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if strings.Contains(strings.ReplaceAll(line, "$$", ""), "$") {
			p.addf("docker-compose.yml:%d: a single $ is substituted by Compose; write $$ for the shell: %s", i+1, strings.TrimSpace(line))
		}
	}
	return p
}

// checkDockerignore: a .dockerignore, if any, keeps what the build needs.
func checkDockerignore(d *deployment) problems {
	var p problems
	b, err := os.ReadFile(filepath.Join(d.root, ".dockerignore"))
	if err != nil {
		return nil
	}
	var pats []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			pats = append(pats, l)
		}
	}
	need := []string{"go.mod", "go.sum", "examples/directory.yaml"}
	for _, dir := range d.moduleDeps() {
		need = append(need, path.Join(dir, "x.go"))
	}
	for _, f := range need {
		if ignored(pats, f) {
			p.addf(".dockerignore excludes %s, which the image build needs", path.Dir(f)+"/")
		}
	}
	return p
}

// moduleDeps lists the repository directories the programs are built from.
func (d *deployment) moduleDeps() []string {
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		if seen[dir] {
			return
		}
		seen[dir] = true
		bp, err := build.ImportDir(filepath.Join(d.root, filepath.FromSlash(dir)), 0)
		if err != nil {
			return
		}
		for _, imp := range bp.Imports {
			if rest, ok := strings.CutPrefix(imp, module+"/"); ok {
				walk(rest)
			}
		}
	}
	for _, pkg := range programs {
		walk(path.Clean(pkg))
	}
	return keys(seen)
}

// ignored applies .dockerignore patterns (last match wins, ! re-includes) to a
// path and its parent directories.
func ignored(pats []string, file string) bool {
	out := false
	for _, pat := range pats {
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(strings.TrimPrefix(pat, "!"), "/"))
		re := globRegexp(pat)
		for p := file; p != "." && p != "/"; p = path.Dir(p) {
			if re.MatchString(p) {
				out = !neg
				break
			}
		}
	}
	return out
}

func globRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case c == '*' && i+1 < len(pat) && pat[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var checks = []struct {
	name string
	fn   func(*deployment) problems
}{
	{"BatonServices", checkBatonServices},
	{"BatonEnvironment", checkBatonEnvironment},
	{"ListenAddresses", checkListenAddresses},
	{"Temporal", checkTemporal},
	{"Database", checkDatabase},
	{"Dependencies", checkDependencies},
	{"ImagePaths", checkImagePaths},
	{"Dockerfile", checkDockerfile},
	{"SearchAttributes", checkSearchAttributes},
	{"Interpolation", checkInterpolation},
	{"Dockerignore", checkDockerignore},
}

func allProblems(d *deployment) problems {
	var out problems
	for _, c := range checks {
		out = append(out, c.fn(d)...)
	}
	return out
}

// ---------------------------------------------------------------------------
// The tests
