package deploycheck

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/batonhq/baton/config"
)

type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

var listenAddress = regexp.MustCompile(`^BATON_\w*ADDRESS$`)

func configEnv() map[string]bool {
	out := map[string]bool{"BATON_CONFIG": true}
	for _, f := range config.Fields() {
		out[f.Env] = true
	}
	return out
}

// checkBatonServices: the three programs run, from this Dockerfile, under baton-*.
func checkBatonServices(d *deployment) problems {
	var p problems
	for _, n := range d.names() {
		switch {
		case strings.HasPrefix(n, "baton-") && !d.builtHere(n):
			p.addf("%s: a baton-* service must run the repository's image (build: ., or the image another service builds from it)", n)
		case !strings.HasPrefix(n, "baton-") && d.builtHere(n):
			p.addf("%s: a service built from Baton's Dockerfile must be named baton-*", n)
		}
	}
	want := map[string]struct{ bin, sub string }{
		"baton-worker":    {"worker", ""},
		"baton-api":       {"starter", "serve"},
		"baton-directory": {"starter", "directory"},
	}
	for name, w := range want {
		if _, ok := d.compose.Services[name]; !ok {
			p.addf("%s: missing", name)
			continue
		}
		ep, cmd := d.run(name)
		bin, sub := d.program(name)
		if bin != w.bin || (w.sub != "" && sub != w.sub) {
			p.addf("%s: runs %q, want the image's %s %s", name, append(slices.Clone(ep), cmd...), w.bin, w.sub)
		}
	}
	for _, n := range d.baton() {
		ep, cmd := d.run(n)
		all := append(slices.Clone(ep), cmd...)
		if len(all) == 0 {
			p.addf("%s: runs nothing", n)
		} else if _, ok := d.binaries()[path.Clean(all[0])]; !ok {
			p.addf("%s: runs %s, which the image does not hold (it has %v)", n, all[0], keys(d.binaries()))
		}
	}
	return p
}

// checkBatonEnvironment: only variables the config knows, with values it loads.
func checkBatonEnvironment(d *deployment) problems {
	var p problems
	known := configEnv()
	for _, n := range d.baton() {
		for _, k := range keys(d.compose.Services[n].Environment) {
			if !known[k] {
				p.addf("%s: environment %s is not a Baton setting (config.Fields has %v)", n, k, keys(known))
			}
		}
		if _, err := d.config(n); err != nil {
			p.addf("%s: its environment does not load: %v", n, err)
		}
	}
	for _, k := range keys(d.final().env()) {
		if !known[k] {
			p.addf("Dockerfile: ENV %s is not a Baton setting", k)
		}
	}
	return p
}

// checkListenAddresses: each BATON_*ADDRESS listens on every interface, is
// published, and the healthcheck probes one of them.
func checkListenAddresses(d *deployment) problems {
	var p problems
	for _, n := range d.baton() {
		s := d.compose.Services[n]
		listen := map[string]string{} // port → variable
		for _, k := range keys(s.Environment) {
			if !listenAddress.MatchString(k) || s.Environment[k] == "" {
				continue
			}
			host, port, err := net.SplitHostPort(s.Environment[k])
			if err != nil {
				p.addf("%s: %s=%q: %v", n, k, s.Environment[k], err)
				continue
			}
			if host != "" && host != "0.0.0.0" && host != "::" {
				p.addf("%s: %s=%s listens on %s only; a published port needs 0.0.0.0", n, k, s.Environment[k], host)
			}
			if other, dup := listen[port]; dup {
				p.addf("%s: %s and %s both listen on port %s", n, other, k, port)
			}
			listen[port] = k
			if !slices.Contains(d.containerPorts(n), port) {
				p.addf("%s: %s listens on port %s, which its ports %v do not publish", n, k, port, d.containerPorts(n))
			}
		}
		for _, port := range d.containerPorts(n) {
			if _, ok := listen[port]; !ok {
				p.addf("%s: publishes port %s, but no BATON_*_ADDRESS of the service listens there", n, port)
			}
		}
		var test []string
		switch {
		case s.Healthcheck != nil && s.Healthcheck.Disable:
			continue
		case s.Healthcheck != nil && len(s.Healthcheck.Test) > 0:
			test = s.Healthcheck.Test
		default: // the image's HEALTHCHECK, with the image's defaults for the addresses
			test, _, _ = d.imageHealthcheck()
			for k, v := range d.env(n) {
				if _, port, err := net.SplitHostPort(v); err == nil && listenAddress.MatchString(k) {
					if _, ok := listen[port]; !ok {
						listen[port] = k
					}
				}
			}
		}
		if len(test) == 0 {
			p.addf("%s: no healthcheck: probe /healthz, or disable it for a one-shot job", n)
			continue
		}
		if test[0] != "CMD" {
			p.addf("%s: healthcheck %q needs a shell; the image is distroless: use [\"CMD\", \"/usr/local/bin/healthcheck\", URL]", n, test)
		}
		if len(test) > 1 {
			if _, ok := d.binaries()[path.Clean(test[1])]; !ok {
				p.addf("%s: healthcheck runs %s, which the image does not hold", n, test[1])
			}
		}
		u, ok := healthURL(test)
		if !ok {
			p.addf("%s: healthcheck %q probes no URL", n, test)
			continue
		}
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
			p.addf("%s: healthcheck probes %s; a container probes itself on 127.0.0.1", n, u)
		}
		if u.Path != "/healthz" {
			p.addf("%s: healthcheck probes %s, want /healthz", n, u)
		}
		if _, ok := listen[u.Port()]; !ok {
			p.addf("%s: healthcheck probes port %s, where nothing of the service listens (its addresses: %v)", n, u.Port(), listen)
		}
	}
	return p
}

// temporalTargets checks host:port names a service publishing 7233 that from
// depends on.
func (d *deployment) checkTemporalTarget(p *problems, from, what, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.addf("%s: %s %q: %v", from, what, addr, err)
		return
	}
	target, ok := d.compose.Services[host]
	switch {
	case !ok:
		p.addf("%s: %s %s names no service", from, what, addr)
		return
	case port != "7233":
		p.addf("%s: %s %s: Temporal's frontend is port 7233", from, what, addr)
	case !slices.Contains(d.containerPorts(host), "7233"):
		p.addf("%s: %s %s: service %s does not have port 7233 in its ports", from, what, addr, host)
	}
	if target != nil && host != from {
		if _, dep := d.compose.Services[from].DependsOn[host]; !dep {
			p.addf("%s: uses Temporal at %s but does not depend on service %s", from, addr, host)
		}
	}
}

var addressFlag = regexp.MustCompile(`--address[= ]"?([^\s"]+)"?`)

// checkTemporal: TEMPORAL_ADDRESS (and the CLI's --address) name the Temporal
// service, and everything that needs Temporal sets it.
func checkTemporal(d *deployment) problems {
	var p problems
	for _, n := range d.names() {
		if addr, ok := d.compose.Services[n].Environment["TEMPORAL_ADDRESS"]; ok {
			d.checkTemporalTarget(&p, n, "TEMPORAL_ADDRESS", addr)
		}
		for _, m := range addressFlag.FindAllStringSubmatch(d.script(n), -1) {
			d.checkTemporalTarget(&p, n, "--address", m[1])
		}
	}
	for _, n := range d.baton() {
		if _, ok := d.compose.Services[n].Environment["TEMPORAL_ADDRESS"]; d.needsTemporal(n) && !ok {
			p.addf("%s: needs Temporal but sets no TEMPORAL_ADDRESS (the default %s is the container itself)", n, config.Default().TemporalAddress)
		}
	}
	return p
}

// checkDatabase: DATABASE_URL names the PostgreSQL service with its credentials
// and database, and Temporal's auto-setup uses the same server.
func checkDatabase(d *deployment) problems {
	var p problems
	for _, n := range d.baton() {
		raw, ok := d.compose.Services[n].Environment["DATABASE_URL"]
		if !ok {
			p.addf("%s: no DATABASE_URL (every Baton program here uses the database)", n)
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			p.addf("%s: DATABASE_URL: %v", n, err)
			continue
		}
		if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			p.addf("%s: DATABASE_URL scheme %q, want postgres", n, u.Scheme)
		}
		host := u.Hostname()
		db, ok := d.compose.Services[host]
		if !ok || !strings.HasPrefix(db.Image, "postgres:") {
			p.addf("%s: DATABASE_URL host %q is not the PostgreSQL service", n, host)
			continue
		}
		if port := u.Port(); port != "" && port != "5432" {
			p.addf("%s: DATABASE_URL port %s: PostgreSQL listens on 5432 in its container", n, port)
		}
		user := db.Environment["POSTGRES_USER"]
		if u.User.Username() != user {
			p.addf("%s: DATABASE_URL user %q, but %s creates %q", n, u.User.Username(), host, user)
		}
		if pw, _ := u.User.Password(); pw != db.Environment["POSTGRES_PASSWORD"] {
			p.addf("%s: DATABASE_URL password does not match %s's POSTGRES_PASSWORD", n, host)
		}
		if name, want := strings.TrimPrefix(u.Path, "/"), cmp(db.Environment["POSTGRES_DB"], user); name != want {
			p.addf("%s: DATABASE_URL database %q, but %s creates %q", n, name, host, want)
		}
		if cond := d.compose.Services[n].DependsOn[host]; cond != "service_healthy" {
			p.addf("%s: must depend on %s with condition service_healthy (has %q)", n, host, cond)
		}
	}
	for _, n := range d.names() {
		s := d.compose.Services[n]
		if strings.HasPrefix(s.Image, "postgres:") {
			if hc := s.Healthcheck; hc == nil || hc.Disable || !strings.Contains(strings.Join(hc.Test, " "), "pg_isready") {
				p.addf("%s: needs a pg_isready healthcheck", n)
			}
		}
		seed, ok := s.Environment["POSTGRES_SEEDS"]
		if !ok {
			continue
		}
		db, ok := d.compose.Services[seed]
		if !ok || !strings.HasPrefix(db.Image, "postgres:") {
			p.addf("%s: POSTGRES_SEEDS %q is not the PostgreSQL service", n, seed)
			continue
		}
		if s.Environment["POSTGRES_USER"] != db.Environment["POSTGRES_USER"] || s.Environment["POSTGRES_PWD"] != db.Environment["POSTGRES_PASSWORD"] {
			p.addf("%s: POSTGRES_USER/POSTGRES_PWD do not match %s's", n, seed)
		}
		if port := s.Environment["DB_PORT"]; port != "5432" {
			p.addf("%s: DB_PORT %q, want 5432", n, port)
		}
		if s.Environment["DB"] != "postgres12" && s.Environment["DB"] != "postgres12_pgx" {
			p.addf("%s: DB %q, want postgres12", n, s.Environment["DB"])
		}
		if cond := s.DependsOn[seed]; cond != "service_healthy" {
			p.addf("%s: must depend on %s with condition service_healthy (has %q)", n, seed, cond)
		}
	}
	return p
}

// checkDependencies: every dependency exists, its condition can be met, there
// is no cycle, and the worker starts after the directory and the search
// attributes are in place.
func checkDependencies(d *deployment) problems {
	var p problems
	for _, n := range d.names() {
		s := d.compose.Services[n]
		for _, dep := range keys(s.DependsOn) {
			target, ok := d.compose.Services[dep]
			if !ok {
				p.addf("%s: depends_on %s, which is not a service", n, dep)
				continue
			}
			switch cond := s.DependsOn[dep]; cond {
			case "service_started":
			case "service_healthy":
				if !d.hasHealthcheck(dep) {
					p.addf("%s: waits for %s to be healthy, but %s has no healthcheck", n, dep, dep)
				}
			case "service_completed_successfully":
				if target.Restart == "always" || target.Restart == "unless-stopped" {
					p.addf("%s: waits for %s to complete, but %s restarts %s", n, dep, dep, target.Restart)
				}
			default:
				p.addf("%s: depends_on %s: unknown condition %q", n, dep, cond)
			}
		}
		for _, v := range s.Volumes {
			if v.Source == "" || strings.HasPrefix(v.Source, ".") || strings.HasPrefix(v.Source, "/") || strings.HasPrefix(v.Source, "~") {
				continue
			}
			if _, ok := d.compose.Volumes[v.Source]; !ok {
				p.addf("%s: volume %s is not declared under volumes:", n, v.Source)
			}
		}
	}
	// cycles
	state := map[string]int{}
	var visit func(n string, trail []string)
	visit = func(n string, trail []string) {
		switch state[n] {
		case 1:
			p.addf("depends_on cycle: %s", strings.Join(append(trail, n), " → "))
			return
		case 2:
			return
		}
		state[n] = 1
		if s := d.compose.Services[n]; s != nil {
			for _, dep := range keys(s.DependsOn) {
				visit(dep, append(trail, n))
			}
		}
		state[n] = 2
	}
	for _, n := range d.names() {
		visit(n, nil)
	}

	worker := d.compose.Services["baton-worker"]
	if worker == nil {
		return append(p, "baton-worker: missing")
	}
	if cond := worker.DependsOn["baton-directory"]; cond != "service_completed_successfully" {
		p.addf("baton-worker: must wait for baton-directory to complete (it checks the policy against the directory); has %q", cond)
	}
	if cfg, err := d.config("baton-worker"); err == nil && !cfg.RegisterSearchAttributes {
		waits := false
		for _, r := range d.registrars() {
			waits = waits || worker.DependsOn[r] == "service_completed_successfully"
		}
		if !waits {
			p.addf("baton-worker: BATON_REGISTER_SEARCH_ATTRIBUTES is off, so it must wait for the job that registers the search attributes (%v) to complete", d.registrars())
		}
	}
	return p
}
