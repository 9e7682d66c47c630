package batontest

import (
	"os/exec"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Eventually waits until cond holds, failing with msg after the deadline. It polls:
// tests never sleep a fixed time for asynchronous work.
func Eventually(t testing.TB, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	wait := 10 * time.Millisecond
	var last string
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s: %s", within, last)
		}
		time.Sleep(wait) // polling interval, not a wait for the work itself
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// Build compiles one of the project's programs (an import path such as
// "github.com/batonhq/baton/worker") into the test's temporary directory and
// returns the binary's path, for tests that run it as its own process.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(pkg))
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, "build %s: %s", pkg, out)
	return bin
}
