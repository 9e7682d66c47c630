package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The memory figure compares this worker with Baton's lean worker binary; that
// is fair only while neither links the Temporal server.
func TestLinksNoTemporalServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "go.temporal.io/server") {
			t.Fatalf("noopworker links %s: build it without the Temporal server", pkg)
		}
	}
}
