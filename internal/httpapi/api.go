// Package httpapi is Baton's HTTP API. Every answer is JSON; every error is
// {"error": {"code": "...", "message": "..."}} with a stable code. It reads claims
// through their workflow's state query and acts on them through the workflow's
// updates, so the workflow is the only source of truth and its validators the
// only rules about who may do what.
//
// Every route but /healthz needs "Authorization: Bearer <token>" (see auth.go):
// the token's user is the actor of every action, never a field of the body.
//
// It imports internal/service (every use case), internal/store, claimclient,
// policy and workflows; only starter serve and batonfx.ServeAPI import it.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/httpapi/webui"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// Server serves the API.
type Server struct {
	claims *claimclient.Client
	store  *store.Store // nil: nothing but /healthz is served (tokens live in the database)
	log    *slog.Logger
	module policy.ProductModule // nil: product_module stages answer their recorded decision
	svc    *service.Service     // the use cases the CLI shares
	limits *limiter             // per token: rate, burst and requests in flight
}

// Option configures a Server.
type Option func(*Server)

// WithProductModule lets the assignment-options endpoints of a product_module
// stage ask the module on the caller's behalf, as the source's
// getClaimAssignmentOptions(policy, claim, currentUser, stage) does, instead of
// answering the stage's recorded decision. Give it the module the worker runs.
func WithProductModule(m policy.ProductModule) Option { return func(s *Server) { s.module = m } }

// New builds the API over a claim client and the store. The store holds the API
// tokens: without it every authenticated route answers 503 auth_unavailable.
func New(claims *claimclient.Client, st *store.Store, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{claims: claims, store: st, log: log, limits: newLimiter(DefaultLimits)}
	for _, o := range opts {
		o(s)
	}
	s.svc = service.New(st, claims, s.module, log)
	return s
}

type route struct {
	method, pattern string
	handler         http.HandlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/api/me", s.me},
		{"GET", "/api/queue", s.queue},
		{"GET", "/api/inbox", s.inbox},
		{"POST", "/api/inbox/{item_id}/read", s.inboxRead},
		{"GET", "/api/team", s.team},
		{"GET", "/api/users/{user_id}", s.userWorkload},
		{"PUT", "/api/users/{user_id}/status", s.setStatus},
		{"POST", "/api/users/{user_id}/absences", s.addAbsence},
		{"POST", "/api/users/{user_id}/deactivate", s.deactivate},
		{"POST", "/api/users/{user_id}/activate", s.activate},
		{"GET", "/api/groups", s.groups},
		{"PUT", "/api/groups", s.applyGroups},

		{"GET", "/api/claims/{claim_id}", s.claimState},
		{"GET", "/api/claims/{claim_id}/timeline", s.timeline},
		{"GET", "/api/claims/{claim_id}/explain", s.explain},
		{"GET", "/api/claims/{claim_id}/assignment-options/{stage}", s.assignmentOptions},
		{"POST", "/api/claims/{claim_id}/assign", s.assign},
		{"POST", "/api/claims/{claim_id}/reassign", s.assign},
		{"POST", "/api/claims/{claim_id}/claim", s.claim},
		{"POST", "/api/claims/{claim_id}/unassign", s.unassign},
		{"POST", "/api/claims/{claim_id}/complete", s.complete},
		{"POST", "/api/claims/{claim_id}/start-reassignment", s.startReassignment},

		// 001's paths, kept as they were (now authenticated).
		{"GET", "/claims/{claim_id}/assignment-options/{stage}", s.assignmentOptions},
		{"GET", "/claims/{claim_id}", s.claimState},
		{"GET", "/claims/{claim_id}/timeline", s.timeline},
		{"GET", "/claims/{claim_id}/explain", s.explain},
	}
}

// Handler routes the API: /healthz is open, everything else is authenticated
// first (so an unauthenticated caller learns nothing, not even which routes
// exist), then routed. A known path with the wrong method is a JSON 405.
func (s *Server) Handler() http.Handler {
	api := http.NewServeMux()
	methods := map[string][]string{}
	for _, rt := range s.routes() {
		api.HandleFunc(rt.method+" "+rt.pattern, rt.handler)
		methods[rt.pattern] = append(methods[rt.pattern], rt.method)
	}
	for pattern, ms := range methods {
		if ms[0] == http.MethodGet {
			ms = append(ms, http.MethodHead)
		}
		sort.Strings(ms)
		allow := strings.Join(ms, ", ")
		api.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" "+r.URL.Path+": want "+allow)
		})
	}
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path)
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	// The queue page holds no data: its script calls the API with the caller's
	// token, so the page and its assets are served without one.
	page := webui.Handler()
	mux.Handle("GET /{$}", page)
	mux.Handle("GET /static/", page)
	mux.Handle("/", s.authenticate(s.limit(api)))
	return securityHeaders(mux)
}

// securityHeaders sets on every answer what keeps a browser from misusing it:
// no sniffing a JSON answer into something executable, no framing the queue
// page into another site's (clickjacking), no referrer carrying a claim's URL
// elsewhere, and only this origin's scripts and styles on the page.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// assignmentOptions answers the claim-assignment source's
// GET /claims/:claim_id/assignment-options/{capture|review|acknowledge}.
func (s *Server) assignmentOptions(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	stage, err := policy.ParseStage(r.PathValue("stage"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "unknown_stage", err.Error())
		return
	}
	if !stage.Assignable() {
		writeError(w, http.StatusBadRequest, "unknown_stage", "finalise is terminal and has no assignment options: want capture, review or acknowledge")
		return
	}
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	state, ok := s.state(w, r, claimID)
	if !ok {
		return
	}
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, "options_unavailable", "this server has no database configured (DATABASE_URL)")
		return
	}
	me := caller(r)
	page, err := s.svc.Options(r.Context(), state, stage, &me, offset, limit)
	switch {
	case errors.Is(err, claimclient.ErrStageNotReached):
		writeError(w, http.StatusConflict, "stage_not_reached", err.Error())
		return
	case errors.Is(err, service.ErrModule):
		s.log.ErrorContext(r.Context(), "ask the product module", "claim_id", claimID, "stage", stage, "caller", me.ID, "error", err)
		writeError(w, http.StatusBadGateway, "product_module_error", fmt.Sprintf("claim %s %s: %v", claimID, stage,
			strings.TrimPrefix(err.Error(), service.ErrModule.Error()+": ")))
		return
	case err != nil:
		s.log.ErrorContext(r.Context(), "read candidates", "claim_id", claimID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the candidates of claim "+claimID)
		return
	}
	// The body keeps the source's shape; the page is described in headers.
	w.Header().Set("X-Total-Count", strconv.Itoa(page.Total))
	if page.Next > 0 {
		next := *r.URL
		q := next.Query()
		q.Set("offset", strconv.Itoa(page.Next))
		q.Set("limit", strconv.Itoa(limit))
		next.RawQuery = q.Encode()
		w.Header().Set("Link", "<"+next.RequestURI()+`>; rel="next"`)
	}
	out := claimclient.AssignmentOptions{AssignedTo: page.AssignedTo, Users: page.Users}
	if !me.IsAdmin() {
		out = withoutEmails(out, me.ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// withoutEmails blanks every candidate's e-mail address but the caller's own:
// the answer keeps the claim-assignment source's shape, and only admins read
// the addresses of everyone a stage could go to.
func withoutEmails(o claimclient.AssignmentOptions, me string) claimclient.AssignmentOptions {
	if o.AssignedTo != nil && o.AssignedTo.UserID != me {
		a := *o.AssignedTo
		a.Email = ""
		o.AssignedTo = &a
	}
	users := make([]policy.Candidate, len(o.Users))
	for i, u := range o.Users {
		if u.UserID != me {
			u.Email = ""
		}
		users[i] = u
	}
	o.Users = users
	return o
}

// defaultPage is how many candidates a page holds unless ?limit= says otherwise.
const defaultPage = 100

// MaxOffset bounds ?offset=: past any directory Baton is built for (a
// 2,147,483,647 offset answered 500), and a page that far is read by key.
const MaxOffset = 10_000_000

// pageParams reads ?offset= and ?limit= (1 to store.MaxPage), answering 400 with
// the parameter named when either is bad.
func pageParams(w http.ResponseWriter, r *http.Request) (offset, limit int, ok bool) {
	limit = defaultPage
	for name, dst := range map[string]*int{"offset": &offset, "limit": &limit} {
		v := r.URL.Query().Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || (name == "limit" && (n < 1 || n > store.MaxPage)) || (name == "offset" && n > MaxOffset) {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("%s=%q: want a whole number (offset 0 to %d, limit 1 to %d)",
				name, v, MaxOffset, store.MaxPage))
			return 0, 0, false
		}
		*dst = n
	}
	return offset, limit, true
}

// timeline answers a claim's events, oldest first.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, "timeline_unavailable", "this server has no database configured (DATABASE_URL)")
		return
	}
	if _, ok := s.readableState(w, r, claimID); !ok {
		return
	}
	events, err := s.store.Timeline(r.Context(), claimID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read timeline", "claim_id", claimID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the timeline of claim "+claimID)
		return
	}
	if events == nil {
		events = []store.TimelineEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"claimId": claimID, "events": events})
}

// explain answers a claim's recorded decisions (optionally one stage's): the
// candidates, who was removed and why, the rules tried, the method and the pick.
func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	var stage policy.Stage
	if q := r.URL.Query().Get("stage"); q != "" {
		var err error
		if stage, err = policy.ParseStage(q); err != nil {
			writeError(w, http.StatusBadRequest, "unknown_stage", err.Error())
			return
		}
	}
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, "explain_unavailable", "this server has no database configured (DATABASE_URL)")
		return
	}
	if _, ok := s.readableState(w, r, claimID); !ok {
		return
	}
	all, err := s.store.DecisionsByClaim(r.Context(), claimID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read decisions", "claim_id", claimID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the decisions of claim "+claimID)
		return
	}
	out := []policy.Decision{}
	for _, d := range all {
		if stage == "" || d.Stage == stage {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"claimId": claimID, "decisions": out})
}

func (s *Server) claimState(w http.ResponseWriter, r *http.Request) {
	if state, ok := s.readableState(w, r, r.PathValue("claim_id")); ok {
		writeJSON(w, http.StatusOK, state)
	}
}

func (s *Server) state(w http.ResponseWriter, r *http.Request, claimID string) (st workflows.ClaimState, ok bool) {
	if err := workflows.ValidateClaimID(claimID); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_claim_id", err.Error())
		return st, false
	}
	st, err := s.claims.State(r.Context(), claimID)
	if errors.Is(err, claimclient.ErrClaimNotFound) {
		writeError(w, http.StatusNotFound, "claim_not_found", "claim "+claimID+" not found")
		return st, false
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "query claim state", "claim_id", claimID, "error", err)
		writeError(w, http.StatusBadGateway, "temporal_unavailable", "could not read claim "+claimID+" from Temporal")
		return st, false
	}
	return st, true
}

// readableState is state, for a caller who may read the claim (mayRead);
// anyone else gets 403 naming who may. The assignment-options endpoints keep
// the claim-assignment source's rule instead: any signed-in user may ask what
// they could pick (state).
func (s *Server) readableState(w http.ResponseWriter, r *http.Request, claimID string) (workflows.ClaimState, bool) {
	st, ok := s.state(w, r, claimID)
	if !ok {
		return st, false
	}
	me := caller(r)
	may, err := s.mayRead(r, me, st)
	if err != nil {
		s.log.ErrorContext(r.Context(), "who may read", "claim_id", claimID, "caller", me.ID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not check who may read claim "+claimID)
		return st, false
	}
	if !may {
		writeError(w, http.StatusForbidden, "forbidden", fmt.Sprintf("%q may not read claim %s: only its owner, those it was "+
			"assigned to or who acted on it, those eligible for its open stage and admins may", me.ID, claimID))
		return st, false
	}
	return st, true
}

// mayRead reports whether user may read the claim whose state is st (its
// state, timeline, explanation and options): an admin, its owner, anyone it
// was assigned to or who acted on it (its state, then its ledger), or someone
// eligible for its open stage when it was decided (the ledger's candidates).
func (s *Server) mayRead(r *http.Request, user policy.User, st workflows.ClaimState) (bool, error) {
	id := user.ID
	if user.IsAdmin() || id == st.Owner || id == st.Assignee {
		return true, nil
	}
	for _, c := range st.Completed {
		if id == c.Assignee || id == c.CompletedBy {
			return true, nil
		}
	}
	for _, d := range st.Decisions {
		if id == d.Assignee || id == d.Actor {
			return true, nil
		}
	}
	if s.store == nil {
		return false, nil
	}
	wf := workflows.WorkflowID(st.ClaimID)
	if ok, err := s.store.ClaimInvolves(r.Context(), wf, id); ok || err != nil {
		return ok, err
	}
	if k := st.Explain; k != nil && st.Closed == "" {
		return s.store.ExplanationIsCandidate(r.Context(), *k, id)
	}
	return false, nil
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// kindAnswers is how the API answers each kind of failure (policy.Kind): its
// status and code. An endpoint may keep a code of its own for a kind (codes
// are stable, and some were named before the kinds were: user_not_found).
var kindAnswers = map[policy.Kind]struct {
	status int
	code   string
}{
	policy.KindInvalid:     {http.StatusBadRequest, "invalid"},
	policy.KindForbidden:   {http.StatusForbidden, "forbidden"},
	policy.KindNotFound:    {http.StatusNotFound, "not_found"},
	policy.KindConflict:    {http.StatusConflict, "conflict"},
	policy.KindUnavailable: {http.StatusServiceUnavailable, "unavailable"},
}

// failure is how one endpoint names its failures: what it was doing (for the
// log and the 500 answer), the code it answers for a kind where that is not
// the kind's own, and what it says for not found.
type failure struct {
	what     string
	codes    map[policy.Kind]string
	notFound string
}

// fail answers err, the one place a failure's kind becomes an answer: the
// kind's status, the endpoint's code for it, and the error's own message
// without the sentinel it wraps. A failure of no kind is logged and answered
// 500 database_error, saying only what could not be done.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, f failure) {
	kind := policy.KindOf(err)
	a, ok := kindAnswers[kind]
	if !ok {
		s.log.ErrorContext(r.Context(), f.what, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not "+f.what)
		return
	}
	code, msg := a.code, policy.Message(err)
	if c, ok := f.codes[kind]; ok {
		code = c
	}
	if kind == policy.KindNotFound && f.notFound != "" {
		msg = f.notFound
	}
	writeError(w, a.status, code, msg)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	// Answers are per caller: no shared cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
