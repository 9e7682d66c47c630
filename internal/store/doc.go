// Package store is the only place SQL lives. It owns Baton's PostgreSQL schema
// (embedded, numbered migrations in migrations/), the directory, eligible sets
// and turns, the decision ledger, the timeline, the notification outbox and the
// in-app inbox.
//
// # Queries
//
// Queries are kept in queries/*.sql, one file per table, each named noun-first
// ("-- name: TurnSet"); a shared WHERE clause is a "-- name: fragment X"
// included as {{x $N}}, its parameters renumbered from $N. Go code fetches a
// query by name with q("TurnSet") and scans rows with pgx's own helpers
// (pgx.CollectRows, RowToStructByName and the scan functions beside each type).
//
// A query of six parameters or more names them (@workflow_id), so that one
// cannot be passed in another's place: the ledger, timeline, inbox, outbox,
// backlog and requirement writes, and the turn orders' reads and entries
// (with the fragments they share, TurnMember and TurnRow). Their names are
// numbered $1, $2, ... once, when the files load (no parsing per call), and
// Go binds them with named("DecisionInsert", Args{...}): an argument missing
// or unknown is an error naming it, and TestEveryQueryNamedIsDefinedAndUsed
// holds every call that writes its Args out to the file's parameters. A query
// may not mix the two kinds.
//
// # Why not sqlc
//
// River keeps its SQL the same way, one file per table, but generates typed Go
// from it with sqlc. We looked at moving to that and decided against it, for
// now:
//
//   - The eligibility query is composed: the same requirement clause (active,
//     permissions, tags, credentials, excluded users) is included, renumbered,
//     in the queries that count eligible users, page them, build eligible sets
//     and pick the next turn. sqlc has no includes, so that clause would be
//     copied into each query or built as a string at run time, where sqlc
//     checks nothing: the one place a mistake would cost most.
//   - Turns are locked, pooled and read in one pipelined round trip (pgx.Batch)
//     whose later statements depend on what the earlier ones return. sqlc's
//     :batch queries send one statement many times; they do not express this.
//   - What sqlc would check, a test here checks against the real schema:
//     TestEveryQueryNamedIsDefinedAndUsed fails when Go names a query no file
//     defines, or a file defines one nothing uses, or a name is defined twice;
//     TestEveryQueryPreparesAgainstTheSchema prepares every query (fragments
//     included) on a freshly migrated database, so a wrong column, table, type
//     or parameter fails `make test`, not production.
//   - Sixty-six queries with hand-written scans are few enough that generated
//     code would be larger than what it replaces, and it adds a generator that
//     every contributor and CI must install and keep in step.
//
// We would revisit this if the query count grows severalfold. Argument
// mix-ups, the failure sqlc's named parameters prevent, are what named and its
// test prevent here for the queries of many parameters.
//
// It imports policy and policy/yamlfile (a stored policy version is read
// back with the file's reader) only; nothing it imports may import it.
package store
