// Package policy holds Baton's decisions as pure functions: the stages a claim moves
// through, the permissions each stage requires, the policy that configures
// assignment (read from its file by package yamlfile), who is eligible, the assignment methods and who may act on a claim.
// Nothing here does I/O, talks to Temporal or touches PostgreSQL, so every rule can
// be table-tested and fuzzed, and the same code serves the worker, the CLI and the
// benchmarks. The directory is read through People, an interface whose answers
// are bounded whatever its size: the store implements it with indexed SQL,
// MemDirectory with a slice.
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
//   - Round robin is exactly even, unlike the source's timestamp modulus: the
//     eligible person with the fewest turns at the stage goes next, directory order
//     among equals, which for a fixed eligible set is one turn each per round. Turns
//     belong to people, one count per person and stage whatever the review outcome,
//     so people whose eligibility overlaps end even as people (turns.go). A user who
//     joins mid-round still gets a turn in that round; one who leaves simply is not
//     offered; nobody gets a second turn before the round ends.
//   - An admin is an active user holding the Admin permission. Admins, the claim's
//     owner and the current assignee may reassign; only the assignee completes. All
//     of it is checked against the directory as it is when the action is recorded
//     (Authorize, AuthorizeNow); a default assignee or escalation target completes
//     while active, eligible or not.
//   - A product module has full control over the candidate list, but every user it
//     names must be a known, active user in the directory, and its assigned_to must
//     be one of its users; anything else is rejected with the user named.
//
// # Distribution rules
//
// A policy's rules are compiled once, when it is parsed (yamlfile.ParsePolicy builds a
// RuleSet; Policy.Rules stays the source of truth for display and diffs): each
// attribute the rules read gets a slot, looked up once per evaluation; each
// condition's values are folded once; and the attribute most rules test with
// IN gets an index from folded value to the ascending list of rules that could
// match, walked merged with the rules that do not test it, so the first match
// is still the policy's first match. Case is ignored exactly as
// strings.EqualFold ignores it: the index's keys fold every rune to the least
// of its case orbit, which two strings share exactly when EqualFold says they
// are equal. EvaluateRules and MatchRules interpret the rules as written and are
// the reference the compiled engine is fuzzed against.
//
// A rule-routed decision does not write its trace (a reason per rule tried,
// about 21 KB over 200 rules). It writes a RuleRecord: the engine version
// (RuleEngine), the stored policy version, the rule matched or none, how many
// rules were tried, and the claim's value of each attribute those rules read,
// missing told apart from empty. The explanation renders the trace from it when
// read (RenderTrace, RenderTraceJSON): the pinned version's rules evaluated
// again over the recorded values, each reason the text a decision wrote before.
// When that evaluation picks another rule, or tries another number of rules,
// the rendering reports a RuleDrift saying so; since versions are pinned and
// values recorded, drift means the engine changed how it decides (which must
// raise RuleEngine) or the record was altered.
//
// It imports nothing of Baton's: every other package may import it.
package policy
