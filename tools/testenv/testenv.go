// Package testenv runs Baton end to end inside a test: a real in-process Temporal
// server (temporaltest, shared by the test binary) and real PostgreSQL (a schema
// per test). Each test gets its own task queue and schema, so tests run in
// parallel without seeing each other's claims, turns or ledger rows.
package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/batonfx"
	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/actorauth"
	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/policy/yamlfile"
)

var (
	serverOnce sync.Once
	server     *temporaltest.TestServer
	serverC    client.Client
	serverErr  error
	queueSeq   atomic.Int64
)

// quiet keeps the SDK's and worker's logs to warnings so test output stays
// readable; set BATON_TEST_LOG=debug to see everything.
func quiet() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("BATON_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// Temporal returns the shared server and a client on its namespace, with Baton's
// search attributes registered (temporaltest has no option for them).
func Temporal(t testing.TB) (*temporaltest.TestServer, client.Client) {
	t.Helper()
	serverOnce.Do(func() {
		defer func() {
			if r := recover(); r != nil {
				serverErr = fmt.Errorf("start temporaltest: %v", r)
			}
		}()
		// temporaltest's own dynamic config, and in ShortRunsNamespace a
		// suggestion to continue as new after ShortRunEvents events.
		server = temporaltest.NewServer(temporaltest.WithBaseServerOptions(temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
			dynamicconfig.HistoryCountSuggestContinueAsNew.Key(): []dynamicconfig.ConstrainedValue{
				{Constraints: dynamicconfig.Constraints{Namespace: ShortRunsNamespace}, Value: ShortRunEvents}},
		})))
		serverC = server.NewClientWithOptions(client.Options{Logger: sdklog.NewStructuredLogger(quiet())})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		serverErr = temporalx.EnsureSearchAttributes(ctx, serverC, server.GetDefaultNamespace(), true)
	})
	require.NoError(t, serverErr)
	return server, serverC
}

// ShortRunsNamespace is a namespace of the shared server where Temporal
// suggests that a workflow continue as new once its history has
// ShortRunEvents events (by default 4,096): tests of claims that outlive many
// runs use it (WithShortRuns).
const (
	ShortRunsNamespace = "baton-short-runs"
	ShortRunEvents     = 150
)

var (
	shortOnce sync.Once
	shortC    client.Client
	shortErr  error
)

// WithShortRuns runs the test's Baton in ShortRunsNamespace.
func WithShortRuns() Option {
	return func(b *Baton) {
		shortOnce.Do(func() { shortC, shortErr = shortRuns() })
		require.NoError(b.T, shortErr)
		b.Temporal, b.Namespace = shortC, ShortRunsNamespace
	}
}

// shortRuns registers ShortRunsNamespace with Baton's search attributes, and
// waits until a workflow can be listed in it.
func shortRuns() (client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns, err := client.NewNamespaceClient(client.Options{HostPort: server.GetFrontendHostPort(), Logger: sdklog.NewStructuredLogger(quiet())})
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	err = ns.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: ShortRunsNamespace,
		WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour)})
	if err != nil {
		return nil, fmt.Errorf("register namespace %s: %w", ShortRunsNamespace, err)
	}
	c := server.NewClientWithOptions(client.Options{Namespace: ShortRunsNamespace, Logger: sdklog.NewStructuredLogger(quiet())})
	for {
		_, err = c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: ShortRunsNamespace, PageSize: 1})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("namespace %s not ready: %w", ShortRunsNamespace, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := temporalx.EnsureSearchAttributes(ctx, c, ShortRunsNamespace, true); err != nil {
		return nil, err
	}
	return c, nil
}

// Baton is one test's Baton: schema, activities, worker(s) and client.
type Baton struct {
	T          testing.TB
	DB         *batontest.Schema
	Acts       *activities.Activities
	Temporal   client.Client
	Namespace  string
	TaskQueue  string
	Claims     *claimclient.Client
	workerOpts worker.Options
	// ActorKeys, set by WithActorKey: Temporal and Claims sign each Update's
	// actor, and the workers refuse Updates not signed.
	ActorKeys actorauth.Keys
	// Plain is a client that signs nothing: what any client with namespace
	// access sends. Without an actor key it is Temporal.
	Plain client.Client
}

// Option adjusts a test Baton before its worker starts.
type Option func(*Baton)

// WithModule sets the product module.
func WithModule(m policy.ProductModule) Option { return func(b *Baton) { b.Acts.Module = m } }

// WithAfterCommit sets the activities' after-commit hook.
func WithAfterCommit(fn func(context.Context, policy.DecisionKey) error) Option {
	return func(b *Baton) { b.Acts.AfterCommit = fn }
}

// WithActorKey sets BATON_ACTOR_KEY for the test's Baton (see ActorKeys).
func WithActorKey(key string) Option {
	return func(b *Baton) {
		keys, err := actorauth.ParseKeys(key)
		require.NoError(b.T, err)
		b.ActorKeys = keys
		b.Acts.ActorKeys = keys // starts are verified too
	}
}

// Start brings up Baton for a test with the policy and directory (a directory
// file's YAML text; empty for none).
func Start(t testing.TB, p *policy.Policy, directoryYAML string, opts ...Option) *Baton {
	t.Helper()
	srv, c := Temporal(t)
	db := batontest.New(t)
	if directoryYAML != "" {
		d, err := yamlfile.ParseDirectory("directory.yaml", []byte(directoryYAML))
		require.NoError(t, err)
		_, err = db.Store.LoadDirectory(context.Background(), d)
		require.NoError(t, err)
	}
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	b := &Baton{
		T:         t,
		DB:        db,
		Acts:      activities.New(db.Store, p, nil, "https://baton.example/claims/{claim_id}?stage={stage}", quiet()),
		Temporal:  c,
		Namespace: srv.GetDefaultNamespace(),
		TaskQueue: fmt.Sprintf("baton-%s-%d", name, queueSeq.Add(1)),
	}
	for _, o := range opts {
		o(b)
	}
	b.Plain = b.Temporal
	if b.ActorKeys != nil {
		signing := srv.NewClientWithOptions(client.Options{Namespace: b.Namespace, Logger: sdklog.NewStructuredLogger(quiet()),
			Interceptors: []interceptor.ClientInterceptor{actorauth.NewSigner(b.ActorKeys)}})
		t.Cleanup(signing.Close)
		b.Temporal = signing
	}
	b.Claims = claimclient.New(b.Temporal, b.TaskQueue)
	if b.Acts.Nudge == nil {
		b.Acts.Nudge = b.Claims.DecideAgain
	}
	b.AddWorker()
	return b
}

// AddWorker starts another worker on the test's task queue, as a second process
// would; it stops when the test ends.
func (b *Baton) AddWorker() worker.Worker {
	opts := worker.Options{WorkflowPanicPolicy: worker.FailWorkflow}
	if b.ActorKeys != nil {
		opts.Interceptors = []interceptor.WorkerInterceptor{actorauth.NewVerifier(b.ActorKeys)}
	}
	w := worker.New(b.Temporal, b.TaskQueue, opts)
	batonfx.Register(w, b.Acts)
	require.NoError(b.T, w.Start())
	b.T.Cleanup(w.Stop)
	return w
}

// ClaimID makes a claim id unique to the test.
func (b *Baton) ClaimID(n int) string {
	return fmt.Sprintf("%s-%03d", strings.ReplaceAll(b.TaskQueue, "/", "-"), n)
}
