// Package e2e holds Baton's end-to-end tests: claims on a real in-process Temporal
// server (temporaltest) with real PostgreSQL, driven through claimclient as a
// service would drive them.
package e2e
