// Package bench measures Baton against Temporal itself and breaks it on purpose.
//
// Run (make bench) times each part of Baton against a baseline measured in the same
// run on the same machine: a no-op workflow of the same shape, a no-op activity, a
// sleep-only workflow, an uncontended cursor, 001's timestamp modulus and a seeded
// random pick, and a hand-written rule function. Every figure is reported as a
// ratio with the absolute numbers beside it, printed as a table and written to a
// markdown report with an SVG chart of the fairness comparison.
//
// Chaos (make chaos) drives claims through round robin and timers while the worker
// is killed with SIGKILL, PostgreSQL connections are cut and the embedded Temporal
// server is restarted on its SQLite file, then audits the ledger, the cursors, the
// outbox and every claim's history for anything lost or done twice.
//
// Both run the real programs: an embedded Temporal server (tools/devserver),
// PostgreSQL (found or started by tools/pgfind), and Baton's worker either in
// process or as the worker binary in child processes.
package bench
