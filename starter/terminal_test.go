package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// What the CLI prints of a comment or reason never runs on the terminal.
func TestTerminalSafe(t *testing.T) {
	t.Parallel()
	require.Equal(t, "needs a senior", terminalSafe("needs a senior"))
	require.Equal(t, `"\x1b[2Jgone"`, terminalSafe("\x1b[2Jgone"))
	require.Equal(t, `"gus\u200b"`, terminalSafe("gus\u200b"))
}
