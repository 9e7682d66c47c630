// Package workflows holds Baton's claim workflow: deterministic code only.
//
// A claim is one workflow execution, id "claim/<claim id>". For each assignable
// stage (capture, review, acknowledge) it runs one ResolveAssignment activity, which
// decides in PostgreSQL and returns the decision, then waits on Updates: assign
// (someone chooses or changes the assignee) and complete_stage (the assignee finishes
// the stage). finalise is terminal: the workflow returns a summary.
//
// # Determinism
//
// Temporal rebuilds a workflow's state after a crash by replaying its history
// through this code, so the code must make the same calls in the same order every
// time. Here that means:
//
//   - No I/O. Everything that touches the database or the network is an activity.
//     The claim's short bookkeeping writes (pinning its policy, timeline events,
//     recording an assignee a person or a timer chose) are local activities: they
//     run in the worker inside the workflow task and leave a marker in history,
//     and, keyed by the claim's seq like every decision, write nothing twice when
//     a crash makes them run again. Update validators, which cannot run activities, reject early only from
//     the state the claim holds (finalised, wrong stage, missing fields, not the
//     assignee); who may act is decided by the recording activity against the
//     directory as it is now, so nothing captured earlier can grant it.
//   - No wall clock, randomness or goroutines: workflow.Now, workflow.Go and
//     workflow.Await, never time.Now, go or channels of the standard library.
//   - Map iteration order is random in Go; nothing here ranges over a map to make a
//     decision.
//   - Names are contracts. The workflow, activities, updates, queries and search
//     attributes are registered under the string constants in names.go, so renaming
//     a Go function never breaks a running claim.
//   - A change that alters the commands a running claim would issue goes behind
//     workflow.GetVersion, and the replay tests over workflows/testdata prove old
//     histories still replay. The organisations change is the baseline release:
//     one code path, no gates yet (names.go says how the next one goes in).
//
// It imports policy only, so a workflow replays from its code and the rules
// alone.
package workflows
