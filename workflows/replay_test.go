package workflows_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/workflows"
)

// TestReplay replays every saved history (regenerate with `make histories`)
// against the current workflow code. A change that would break running claims
// fails here; such a change belongs behind workflow.GetVersion. The
// continued_* pair are both sides of a claim continuing as new. The histories
// named incompatible_* must fail, proving the replay check can fail: one was
// recorded by a workflow that scheduled a different activity; one is a
// continued run with its carried state dropped, replayed as a fresh start;
// the third (getversion_dropped, never regenerated) by the pre-release code
// whose four GetVersion branches the baseline release dropped. All fail with
// the SDK's nondeterminism error, TMPRL1100.
func TestReplay(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4, "histories are missing: run make histories")
	sawIncompatible := false
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.ClaimWorkflow, workflow.RegisterOptions{Name: workflows.ClaimWorkflowName})
			err := r.ReplayWorkflowHistoryFromJSONFile(nil, f)
			if strings.HasPrefix(filepath.Base(f), "incompatible_") {
				sawIncompatible = true
				require.Error(t, err)
				require.Contains(t, err.Error(), "[TMPRL1100]")
				return
			}
			require.NoError(t, err)
		})
	}
	require.True(t, sawIncompatible, "the deliberately incompatible history is missing")
}
