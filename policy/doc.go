// Package policy holds Baton's decisions as pure functions: the stages a claim moves
// through, the permissions each stage requires, the policy file that configures
// assignment, who is eligible, and the assignment methods. Nothing here does I/O,
// talks to Temporal or touches PostgreSQL, so every rule can be table-tested and
// fuzzed, and the same code serves the worker, the CLI and the benchmarks.
//
// # Choices where the sources are silent
//
// The behaviour follows the claim-assignment source (manual, round robin, product
// module). Where it leaves a choice open, Baton picks what an operations team would
// expect:
//
//   - enableClaimAssignments defaults to false when omitted, as in the source ("enable
//     assignment flows"). With it off, claims still move through the stages, nobody
//     is assigned, and anyone holding the stage's permissions may complete a stage.
//   - claimAssignmentMethod defaults to "manual". Both spellings the source uses are
//     accepted: "round_robin" and "RoundRobin", "product_module" and "ProductModule".
//   - A user is eligible for a stage when they are active and hold every permission
//     the stage requires. For acknowledge that is AcknowledgeClaimDecisions plus the
//     permission matching the review outcome.
//   - Round robin is exactly even, unlike the source's timestamp modulus. It works in
//     rounds: each eligible user gets one assignment per round, in directory order,
//     and a new round starts only when every currently eligible user has had theirs.
//     A user who joins mid-round still gets a turn in that round; one who leaves
//     simply is not offered; nobody gets a second turn before the round ends. The
//     cursor (round number and who has been served) is scoped per stage and exact
//     set of required permissions, so acknowledge keeps one cursor per review
//     outcome: mixing eligible sets in one cursor would let a claim that fewer
//     users may take close a round on someone else's pending turn.
//   - An admin is an active user holding the Admin permission. Admins, the claim's
//     owner and the current assignee may reassign; only the assignee completes.
//   - A product module has full control over the candidate list, but every user it
//     names must be a known, active user in the directory, and its assigned_to must
//     be one of its users; anything else is rejected with the user named.
package policy
