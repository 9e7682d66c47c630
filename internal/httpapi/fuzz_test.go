package httpapi

// Fuzz targets for everything the API decodes from a request: action bodies,
// claim ids and stages in paths, query strings and the Authorization header.
// They drive the real handlers and router over a fake Temporal client (no
// server, no database), so a run is cheap. Bad input must yield a 4xx with a
// JSON error naming what was wrong and must never reach the workflow; good input
// must reach it exactly as sent. Seeds live in testdata/fuzz/<FuzzName>/;
// `make fuzz` runs each target.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// fakeTemporal records what the API sends. Updates succeed (with zero results),
// state queries find no claim, listings are empty. Anything else panics on the
// nil embedded client, which a fuzz run reports.
type fakeTemporal struct {
	client.Client
	updates []client.UpdateWorkflowOptions
	lists   []string
}

func (f *fakeTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.updates = append(f.updates, o)
	return fakeHandle{}, nil
}

func (f *fakeTemporal) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) QueryWorkflowWithOptions(context.Context, *client.QueryWorkflowWithOptionsRequest) (*client.QueryWorkflowWithOptionsResponse, error) {
	return nil, serviceerror.NewNotFound("workflow not found")
}

func (f *fakeTemporal) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.lists = append(f.lists, r.GetQuery())
	return &workflowservice.ListWorkflowExecutionsResponse{}, nil
}

type fakeHandle struct{}

func (fakeHandle) WorkflowID() string             { return "" }
func (fakeHandle) RunID() string                  { return "" }
func (fakeHandle) UpdateID() string               { return "" }
func (fakeHandle) Get(context.Context, any) error { return nil }

// fuzzActor is the authenticated caller of every fuzzed request.
const fuzzActor = "ann"

// fuzzServer is the API's routes (as Handler routes them, without the token
// check, which FuzzAuthorization covers) over a fake Temporal client, with
// fuzzActor as the caller.
func fuzzServer() (http.Handler, *fakeTemporal) {
	fake := &fakeTemporal{}
	s := New(claimclient.New(fake, "fuzz"), nil, nil)
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+rt.pattern, rt.handler)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path)
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), callerKey{}, Caller{User: policy.User{ID: fuzzActor}})
		mux.ServeHTTP(w, r.WithContext(ctx))
	})
	return h, fake
}

// answer is a decoded response.
type answer struct {
	code    int
	errCode string
	msg     string
	body    []byte
}

func serve(t *testing.T, h http.Handler, r *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	a := answer{code: rec.Code, body: rec.Body.Bytes()}
	if a.code >= 300 {
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"), "%d %s", a.code, a.body)
		var e errorBody
		require.NoError(t, json.Unmarshal(a.body, &e), "every error is a JSON body: %s", a.body)
		a.errCode, a.msg = e.Error.Code, e.Error.Message
		require.NotEmpty(t, a.errCode, "%s", a.body)
		require.NotEmpty(t, a.msg, "%s", a.body)
	}
	return a
}

// claimPath is the escaped path segment of a claim id; ok is false for ids the
// router cannot carry in a segment at all: it cleans "." and ".." away, and
// matches on the unescaped path, where a "/" starts another segment (such ids
// get 404 not_found: no route).
func claimPath(id string) (string, bool) {
	if id == "" || id == "." || id == ".." || strings.Contains(id, "/") {
		return "", false
	}
	return url.PathEscape(id), true
}

// fuzzActions are the POST actions, each with its body's fields and the update
// input a body with those values must become.
var fuzzActions = []struct {
	path, update string
	needsBody    bool
	fields       []string
	input        func(v map[string]string) any
}{
	{"assign", workflows.UpdateAssign, true, []string{"userId", "comment"}, func(v map[string]string) any {
		return workflows.AssignInput{Actor: fuzzActor, UserID: v["userId"], Comment: v["comment"]}
	}},
	{"reassign", workflows.UpdateAssign, true, []string{"userId", "comment"}, func(v map[string]string) any {
		return workflows.AssignInput{Actor: fuzzActor, UserID: v["userId"], Comment: v["comment"]}
	}},
	{"claim", workflows.UpdateClaim, false, nil, func(map[string]string) any {
		return workflows.ClaimStageInput{Actor: fuzzActor}
	}},
	{"unassign", workflows.UpdateUnassign, false, []string{"comment"}, func(v map[string]string) any {
		return workflows.UnassignInput{Actor: fuzzActor, Comment: v["comment"]}
	}},
	{"complete", workflows.UpdateCompleteStage, false, []string{"outcome", "note"}, func(v map[string]string) any {
		return workflows.CompleteInput{Actor: fuzzActor, Outcome: v["outcome"], Note: v["note"]}
	}},
	{"start-reassignment", workflows.UpdateStartReassignment, true, []string{"group", "comment"}, func(v map[string]string) any {
		return workflows.StartReassignmentInput{Actor: fuzzActor, Group: v["group"], Comment: v["comment"]}
	}},
}

// bodyVerdict is what a body should get, worked out independently of
// decodeBody: empty, not JSON, not an object, an object whose first bad key
// is badKey (unknown, or not a string) or good values.
type bodyVerdict struct {
	kind   string // "empty", "invalid", "null", "not-object", "bad-key", "ok"
	badKey []string
	values map[string]string
}

func judgeBody(body []byte, fields []string) bodyVerdict {
	trimmed := bytes.Trim(body, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return bodyVerdict{kind: "empty"}
	case !json.Valid(body):
		return bodyVerdict{kind: "invalid"}
	case trimmed[0] == 'n':
		return bodyVerdict{kind: "null"}
	case trimmed[0] != '{':
		return bodyVerdict{kind: "not-object"}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	_, _ = dec.Token() // {
	v := map[string]string{}
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		var raw json.RawMessage
		_ = dec.Decode(&raw)
		field := ""
		for _, f := range fields {
			if key == f {
				field = f
				break
			}
			if field == "" && strings.EqualFold(key, f) {
				field = f
			}
		}
		if field == "" {
			return bodyVerdict{kind: "bad-key", badKey: []string{key}}
		}
		var s *string
		if err := json.Unmarshal(raw, &s); err != nil {
			return bodyVerdict{kind: "bad-key", badKey: []string{key, field}}
		}
		if s != nil {
			v[field] = *s
		}
	}
	return bodyVerdict{kind: "ok", values: v}
}

// FuzzActionBody posts a body to one of the claim actions.
func FuzzActionBody(f *testing.F) {
	f.Add(uint8(0), "C-1", []byte(`{"userId": "bob", "comment": "ann is away"}`))
	f.Add(uint8(4), "C-1", []byte(`{"outcome": "approval", "note": "ok"}`))
	f.Add(uint8(0), "C-1", []byte(`{"userId": "bob", "actor": "root"}`))
	f.Add(uint8(5), "C 1", []byte(`{"group": "seniors"}`))
	f.Fuzz(func(t *testing.T, which uint8, claimID string, body []byte) {
		act := fuzzActions[int(which)%len(fuzzActions)]
		seg, ok := claimPath(claimID)
		if !ok {
			return
		}
		h, fake := fuzzServer()
		r := httptest.NewRequest("POST", "/api/claims/"+seg+"/"+act.path, bytes.NewReader(body))
		a := serve(t, h, r)

		if err := claimclient.ValidateClaimID(claimID); err != nil {
			require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
			require.Equal(t, "invalid_claim_id", a.errCode)
			require.Empty(t, fake.updates, "a bad claim id never reaches a workflow")
			return
		}
		if len(body) > MaxBodyBytes {
			require.Contains(t, []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge}, a.code)
			require.Empty(t, fake.updates)
			return
		}
		v := judgeBody(body, act.fields)
		if v.kind == "empty" && !act.needsBody || v.kind == "null" {
			v = bodyVerdict{kind: "ok", values: map[string]string{}}
		}
		if v.kind != "ok" {
			require.Equal(t, http.StatusBadRequest, a.code, "%s: %q", a.body, body)
			require.Equal(t, "invalid_body", a.errCode)
			require.Empty(t, fake.updates, "a bad body never reaches the workflow")
			if v.kind == "bad-key" {
				named := false
				for _, k := range v.badKey {
					named = named || strings.Contains(a.msg, strconv.Quote(k))
				}
				require.True(t, named, "the error names the field %q: %s", v.badKey, a.msg)
			}
			return
		}
		// Good input: exactly one update, to this claim, with the body's values
		// and the caller as the actor.
		require.Equal(t, http.StatusOK, a.code, "%s: %q", a.body, body)
		require.Len(t, fake.updates, 1)
		u := fake.updates[0]
		require.Equal(t, act.update, u.UpdateName)
		require.Equal(t, workflows.WorkflowID(claimID), u.WorkflowID)
		require.Equal(t, []any{act.input(v.values)}, u.Args)
	})
}

// FuzzClaimReads reads a claim with a fuzzed id and stage: its state, a stage's
// assignment options, and its decisions filtered by ?stage=.
func FuzzClaimReads(f *testing.F) {
	f.Add(uint8(0), "C-1", "review")
	f.Add(uint8(0), "C-1", "reveiw")
	f.Add(uint8(0), "C-1", "finalise")
	f.Add(uint8(1), "C-1", "Capture ")
	f.Add(uint8(2), "C 1", "")
	f.Fuzz(func(t *testing.T, which uint8, claimID, stage string) {
		seg, ok := claimPath(claimID)
		if !ok {
			return
		}
		h, fake := fuzzServer()
		idErr := claimclient.ValidateClaimID(claimID)
		parsed, stageErr := policy.ParseStage(stage)
		var a answer
		switch which % 3 {
		case 0: // GET /api/claims/{claim_id}/assignment-options/{stage}
			stageSeg, ok := claimPath(stage)
			if !ok {
				return
			}
			a = serve(t, h, httptest.NewRequest("GET", "/api/claims/"+seg+"/assignment-options/"+stageSeg, nil))
			switch {
			case stageErr != nil:
				require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
				require.Equal(t, "unknown_stage", a.errCode)
				require.Equal(t, stageErr.Error(), a.msg)
				require.Contains(t, a.msg, strconv.Quote(stage), "the error names the stage given")
			case !parsed.Assignable():
				require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
				require.Equal(t, "unknown_stage", a.errCode)
			case idErr != nil:
				require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
				require.Equal(t, "invalid_claim_id", a.errCode)
			default:
				require.Equal(t, http.StatusNotFound, a.code, "%s", a.body)
				require.Equal(t, "claim_not_found", a.errCode)
			}
		case 1: // GET /api/claims/{claim_id}/explain?stage=
			r := httptest.NewRequest("GET", "/api/claims/"+seg+"/explain?"+url.Values{"stage": {stage}}.Encode(), nil)
			a = serve(t, h, r)
			switch {
			case stage != "" && stageErr != nil:
				require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
				require.Equal(t, "unknown_stage", a.errCode)
				require.Equal(t, stageErr.Error(), a.msg)
			default:
				// Decoded fine; this server has no database to read decisions from.
				require.Equal(t, http.StatusServiceUnavailable, a.code, "%s", a.body)
				require.Equal(t, "explain_unavailable", a.errCode)
			}
		default: // GET /api/claims/{claim_id}
			a = serve(t, h, httptest.NewRequest("GET", "/api/claims/"+seg, nil))
			if idErr != nil {
				require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
				require.Equal(t, "invalid_claim_id", a.errCode)
			} else {
				require.Equal(t, http.StatusNotFound, a.code, "%s", a.body)
				require.Equal(t, "claim_not_found", a.errCode)
			}
		}
		require.Empty(t, fake.updates, "a read never sends an update")
	})
}

// FuzzQueueQuery lists the queue with a fuzzed query string.
func FuzzQueueQuery(f *testing.F) {
	f.Add("queue=intake&stage=capture&status=unassigned&since=2025-01-02&page=2&page_size=10")
	f.Add("stauts=unassigned")
	f.Add("page=0")
	f.Add("since=yesterday")
	f.Add("queue=it's%5C")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		h, fake := fuzzServer()
		r := httptest.NewRequest("GET", "/api/queue", nil)
		r.URL.RawQuery = rawQuery
		a := serve(t, h, r)
		q := r.URL.Query()
		if a.code != http.StatusOK {
			require.Equal(t, http.StatusBadRequest, a.code, "%s", a.body)
			require.Equal(t, "invalid_query", a.errCode)
			require.Empty(t, fake.lists, "a bad query never reaches Temporal")
			named := false
			for k := range q {
				named = named || strings.HasPrefix(a.msg, k+" ") || strings.HasPrefix(a.msg, k+":") ||
					strings.Contains(a.msg, strconv.Quote(k))
			}
			require.True(t, named, "the error names the parameter: %s", a.msg)
			return
		}
		var page QueuePage
		require.NoError(t, json.Unmarshal(a.body, &page))
		require.NotNil(t, page.Items)
		require.GreaterOrEqual(t, page.Page, 1)
		require.GreaterOrEqual(t, page.PageSize, 1)
		require.LessOrEqual(t, page.PageSize, MaxPageSize)
		require.Len(t, fake.lists, 1)
		query := fake.lists[0]
		require.True(t, visibilityQuoted(query), "every value stays inside its quotes: %s", query)
		if v := q.Get("queue"); v != "" {
			require.Contains(t, query, "BatonQueue = ")
		}
	})
}

// visibilityQuoted reports whether a visibility query's string literals are all
// closed: a value must never end its literal early (by a quote or an escaping
// backslash) and run into the query's syntax.
func visibilityQuoted(q string) bool {
	in := false
	for i := 0; i < len(q); i++ {
		switch {
		case in && q[i] == '\\':
			i++ // an escaped character
		case q[i] == '\'':
			in = !in
		}
	}
	return !in
}

// FuzzAuthorization sends fuzzed Authorization headers to the real Handler
// (whose server has no database: a well-formed token gets as far as looking it
// up, which answers 503).
func FuzzAuthorization(f *testing.F) {
	f.Add("Bearer abc123", false)
	f.Add("bearer   abc123", false)
	f.Add("Basic YWxhZGRpbjpvcGVuc2VzYW1l", false)
	f.Add("Bearer a b", false)
	f.Add("Bearer ", true)
	f.Fuzz(func(t *testing.T, header string, twice bool) {
		fake := &fakeTemporal{}
		h := New(claimclient.New(fake, "fuzz"), nil, nil).Handler()
		r := httptest.NewRequest("GET", "/api/me", nil)
		r.Header.Set("Authorization", header)
		if twice {
			r.Header.Add("Authorization", header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var e errorBody
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), "%s", rec.Body)
		scheme, token, _ := strings.Cut(header, " ")
		token = strings.TrimLeft(token, " ")
		wellFormed := !twice && strings.EqualFold(scheme, "Bearer") && token != "" && !strings.ContainsAny(token, " \t")
		if wellFormed {
			require.Equal(t, http.StatusServiceUnavailable, rec.Code, "%s", rec.Body)
			require.Equal(t, "auth_unavailable", e.Error.Code)
			return
		}
		require.Equal(t, http.StatusUnauthorized, rec.Code, "%s", rec.Body)
		require.Equal(t, "unauthenticated", e.Error.Code)
		require.True(t, strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), `Bearer realm="baton", error="invalid_request"`))
		// The answer says what is wrong with the header without echoing it.
		require.Contains(t, []string{
			"more than one Authorization header",
			"the Authorization header must use the Bearer scheme: Authorization: Bearer <token>",
			"malformed Authorization header: want Authorization: Bearer <token>",
		}, e.Error.Message)
	})
}

// A body over MaxBodyBytes is 413, and never reaches the workflow.
func TestActionBodyTooLarge(t *testing.T) {
	t.Parallel()
	h, fake := fuzzServer()
	body := `{"userId": "bob", "comment": "` + strings.Repeat("x", MaxBodyBytes) + `"}`
	a := serve(t, h, httptest.NewRequest("POST", "/api/claims/C-1/assign", strings.NewReader(body)))
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code)
	require.Equal(t, "too_large", a.errCode)
	require.Equal(t, "the body is larger than 65536 bytes", a.msg)
	require.Empty(t, fake.updates)
}
