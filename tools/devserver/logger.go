package devserver

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// temporalLogger adapts the Temporal server's logger interface to slog. It
// drops everything below WARN, because the server logs several lines per
// second at INFO even when idle, and demotes to DEBUG the warnings that are
// expected in this setup (see benignWarnings) and everything logged once Stop
// has begun.
type temporalLogger struct {
	l        *slog.Logger
	stopping *atomic.Bool // shared by loggers derived through With
}

var (
	_ log.Logger     = (*temporalLogger)(nil)
	_ log.WithLogger = (*temporalLogger)(nil)
)

// benignWarnings are server warnings about features the dev server leaves
// off on purpose, logged on every start.
var benignWarnings = []string{
	// Nexus needs the frontend's HTTP API, which Baton does not use.
	"HTTP API port has not been set",
}

func newTemporalLogger(l *slog.Logger) *temporalLogger {
	return &temporalLogger{l: l.With("component", "temporal-server"), stopping: new(atomic.Bool)}
}

// Debug is dropped; see temporalLogger.
func (*temporalLogger) Debug(string, ...tag.Tag) {}

// Info is dropped; see temporalLogger.
func (*temporalLogger) Info(string, ...tag.Tag) {}

// Warn logs at WARN, or DEBUG for expected warnings and during shutdown.
func (t *temporalLogger) Warn(msg string, tags ...tag.Tag) {
	level := slog.LevelWarn
	if t.stopping.Load() || isBenignWarning(msg) {
		level = slog.LevelDebug
	}
	t.l.Log(context.Background(), level, msg, tagsToAttrs(tags)...)
}

// Error logs at ERROR, or DEBUG during shutdown.
func (t *temporalLogger) Error(msg string, tags ...tag.Tag) {
	level := slog.LevelError
	if t.stopping.Load() {
		level = slog.LevelDebug
	}
	t.l.Log(context.Background(), level, msg, tagsToAttrs(tags)...)
}

// DPanic logs like Error; development panics are not wanted in a dev server
// that other code embeds.
func (t *temporalLogger) DPanic(msg string, tags ...tag.Tag) {
	t.Error(msg, tags...)
}

// Panic logs and then panics, as the server's callers expect.
func (t *temporalLogger) Panic(msg string, tags ...tag.Tag) {
	t.l.Error(msg, tagsToAttrs(tags)...)
	panic(msg)
}

// Fatal logs and exits the process, as the server's callers expect it not
// to return (the server's own zap logger does the same).
func (t *temporalLogger) Fatal(msg string, tags ...tag.Tag) {
	t.l.Error(msg, tagsToAttrs(tags)...)
	os.Exit(1)
}

// With returns a logger that adds tags to every message.
func (t *temporalLogger) With(tags ...tag.Tag) log.Logger {
	return &temporalLogger{l: t.l.With(tagsToAttrs(tags)...), stopping: t.stopping}
}

func isBenignWarning(msg string) bool {
	for _, prefix := range benignWarnings {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func tagsToAttrs(tags []tag.Tag) []any {
	attrs := make([]any, 0, len(tags))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	return attrs
}
