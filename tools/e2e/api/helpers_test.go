package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/httpapi"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

const testTimeout = 30 * time.Second

// harness is a test's Baton (real Temporal, real PostgreSQL) behind the API.
type harness struct {
	t   *testing.T
	b   *testenv.Baton
	srv *httptest.Server
}

func newHarness(t *testing.T, p *policy.Policy, directoryYAML string, opts ...testenv.Option) *harness {
	t.Helper()
	return newHarnessWith(t, p, directoryYAML, nil, opts...)
}

// newHarnessWith is newHarness with options for the API server.
func newHarnessWith(t *testing.T, p *policy.Policy, directoryYAML string, api []httpapi.Option, opts ...testenv.Option) *harness {
	t.Helper()
	b := testenv.Start(t, p, directoryYAML, opts...)
	srv := httptest.NewServer(httpapi.New(b.Claims, b.DB.Store, nil, api...).Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, b: b, srv: srv}
}

func parsePolicy(t *testing.T, doc string) *policy.Policy {
	t.Helper()
	p, err := yamlfile.ParsePolicy("policy.yaml", []byte(doc))
	require.NoError(t, err)
	return p
}

// uniqueQueue names a queue no other test (nor another -count run of this one)
// uses: tests share the Temporal server and namespace, and a queue of their own
// keeps other claims out of their listings.
func uniqueQueue(t *testing.T) string {
	return fmt.Sprintf("q-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), queueSeq.Add(1))
}

var queueSeq atomic.Int64

// token issues an API token for a user through the store, as `starter token
// create` does.
func (h *harness) token(user string) string {
	h.t.Helper()
	tok, _, err := h.b.DB.Store.TokenCreate(context.Background(), user, "test")
	require.NoError(h.t, err)
	return tok
}

// revokedToken issues a token for a user and revokes it.
func (h *harness) revokedToken(user string) string {
	h.t.Helper()
	tok, id, err := h.b.DB.Store.TokenCreate(context.Background(), user, "revoked")
	require.NoError(h.t, err)
	require.NoError(h.t, h.b.DB.Store.TokenRevoke(context.Background(), id))
	return tok
}

// resp is an answer: status, headers and the decoded JSON body (nil when empty).
type resp struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

// errCode is the error code of an error answer, "" otherwise.
func (r resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r resp) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// do sends a request with a bearer token ("" for none). body is sent as is when
// it is a string, as JSON otherwise, and not at all when nil. Safe to call from
// any goroutine: it reports problems as errors in the answer's raw text rather
// than failing the test from off its goroutine.
func (h *harness) send(method, path, token string, body any) (resp, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return resp{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		return resp{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := h.srv.Client().Do(req)
	if err != nil {
		return resp{}, err
	}
	defer r.Body.Close()
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return resp{}, err
	}
	out := resp{code: r.StatusCode, header: r.Header, raw: string(data)}
	if len(data) > 0 {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			return out, fmt.Errorf("%s %s: content type %q, body %s", method, path, ct, data)
		}
		if err := json.Unmarshal(data, &out.body); err != nil {
			return out, fmt.Errorf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out, nil
}

func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	r, err := h.send(method, path, token, body)
	require.NoError(h.t, err)
	return r
}

func (h *harness) get(path, token string) resp { h.t.Helper(); return h.do("GET", path, token, nil) }

func (h *harness) post(path, token string, body any) resp {
	h.t.Helper()
	return h.do("POST", path, token, body)
}

// requireError checks an error answer's status and code.
func requireError(t *testing.T, r resp, code int, errCode string) {
	t.Helper()
	require.Equal(t, code, r.code, r.raw)
	require.Equal(t, errCode, r.errCode(), r.raw)
	require.NotEmpty(t, r.errMessage(), r.raw)
}

// start starts a claim and waits until its current stage is decided.
func (h *harness) start(id, owner string) workflows.ClaimState {
	h.t.Helper()
	_, err := h.b.Claims.Start(context.Background(), workflows.ClaimInput{ClaimID: id, Owner: owner})
	require.NoError(h.t, err)
	return h.waitFor(id, "decided", func(s workflows.ClaimState) bool {
		return s.Stage == policy.StageCapture && s.Status != workflows.StatusDeciding
	})
}

// waitFor polls the claim's state until cond holds.
func (h *harness) waitFor(id, what string, cond func(workflows.ClaimState) bool) workflows.ClaimState {
	h.t.Helper()
	var s workflows.ClaimState
	batontest.Eventually(h.t, testTimeout, func() (bool, string) {
		var err error
		if s, err = h.b.Claims.State(context.Background(), id); err != nil {
			return false, err.Error()
		}
		return cond(s), fmt.Sprintf("%s: claim %s stage %s status %s assignee %q", what, id, s.Stage, s.Status, s.Assignee)
	})
	return s
}
