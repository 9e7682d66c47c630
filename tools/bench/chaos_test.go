package bench_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/tools/bench"
)

// chaosClaims is a multiple of the seven round-robin people, so exact shares
// are checkable where nothing skewed them; calmClaims, run after the faults,
// of six and seven (a deactivation leaves six eligible).
const chaosClaims, calmClaims = 42, 42

// TestChaosLosesNothing is make chaos, shorter: two real worker binaries, the
// first killed with SIGKILL and restarted, the second killed and left down;
// every PostgreSQL connection cut, and the PostgreSQL server itself (a private
// cluster of the test's own) restarted; the Temporal server, in a process of
// its own, stopped and started again on its SQLite file, and killed with
// SIGKILL and started again; one person away and back, another deactivated and
// what they hold re-routed; then the calm claims, held to exact shares. Nothing
// may be lost or done twice.
func TestChaosLosesNothing(t *testing.T) {
	runChaos(t, bench.StoreSQLite)
}

// TestChaosLosesNothingOnPostgres is the same run on the production topology:
// the Temporal server's persistence and visibility in PostgreSQL, with four
// history shards, loaded from Temporal's own schema.
func TestChaosLosesNothingOnPostgres(t *testing.T) {
	runChaos(t, bench.StorePostgres)
}

func runChaos(t *testing.T, store string) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	worker := batontest.Build(t, "github.com/batonhq/baton/worker")
	dev := batontest.Build(t, "github.com/batonhq/baton/tools/dev")
	dir := t.TempDir()
	// The private PostgreSQL runs as the postgres user, who must reach it.
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))

	var progress bytes.Buffer
	start := time.Now()
	tally, err := bench.Chaos(ctx, bench.ChaosConfig{
		DataDir: dir, WorkerBin: worker, ServerBin: dev, TemporalStore: store,
		Claims: chaosClaims, Calm: calmClaims, Parallel: 16, Workers: 2,
		Kills: 1, Downs: 1, Cuts: 1, PGRestarts: 1, Restarts: 1, ServerKills: 1, Aways: 1, Deactivations: 1,
		Seed: uint64(time.Now().UnixNano()),
	}, &progress)
	require.NoError(t, err, progress.String())
	var report bytes.Buffer
	tally.Print(&report)
	t.Logf("%s%s(whole test, builds included: %.0f s)", progress.String(), report.String(), time.Since(start).Seconds())
	require.Empty(t, tally.Losses, report.String())
	require.Equal(t, chaosClaims+calmClaims, tally.Finished)
	require.Equal(t, calmClaims, tally.Calm, "the calm segment was held to exact shares")
	require.Len(t, tally.Faults, 8, "every fault was injected mid-run")
	require.NotEmpty(t, tally.Deactivated)
	require.Equal(t, tally.Expected, tally.Decisions, "the ledger holds exactly the decisions called for")
	require.Equal(t, chaosClaims+calmClaims, tally.TimersOnce)
	require.Equal(t, tally.Outbox, tally.Delivered)
}
