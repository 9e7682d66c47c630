package bench_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/batontest"
	"github.com/batonhq/baton/tools/bench"
)

// TestChaosLosesNothing is make chaos, shorter: the real worker binary is
// killed with SIGKILL and restarted, every PostgreSQL connection is cut, and the
// embedded Temporal server is restarted on its SQLite file while claims run
// through round robin, a claim window and e-mail notifications; one person goes
// away and comes back, and another is deactivated and what they hold re-routed.
// Nothing may be lost or done twice.
func TestChaosLosesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := batontest.Build(t, "github.com/batonhq/baton/worker")

	var progress bytes.Buffer
	tally, err := bench.Chaos(ctx, bench.ChaosConfig{
		DataDir: t.TempDir(), WorkerBin: bin, Claims: 40, Parallel: 16,
		Kills: 2, Cuts: 1, Restarts: 1, Aways: 1, Deactivations: 1, Seed: uint64(time.Now().UnixNano()),
	}, &progress)
	require.NoError(t, err, progress.String())
	var report bytes.Buffer
	tally.Print(&report)
	t.Log(progress.String() + report.String())
	require.Empty(t, tally.Losses, report.String())
	require.Equal(t, 40, tally.Finished)
	require.Len(t, tally.Faults, 6, "every fault was injected mid-run")
	require.NotEmpty(t, tally.Deactivated)
	require.Equal(t, tally.Expected, tally.Decisions, "one ledger row per claim-stage sequence")
	require.Equal(t, 40, tally.TimersOnce)
	require.Equal(t, tally.Outbox, tally.Delivered)
}
