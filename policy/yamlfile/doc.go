// Package yamlfile reads the files operators write: the policy (with its
// distribution rules), the directory, the reassignment groups and the what-if
// sample claims. Each is YAML, or JSON, which is YAML. A reader walks the
// whole document and reports every problem it finds, at most
// MaxProblems, each naming the file, line and field, so an operator fixes a
// file in one pass; the result is nil unless the whole document is valid. An
// unknown or repeated key is an error, never a setting silently ignored.
//
// What a file means is package policy's: the types these readers fill
// (policy.Policy, policy.Directory, policy.ReassignmentGroup,
// policy.SampleClaim), the checks every source of them shares (identifiers,
// permissions, methods, durations) and the decisions made from them. This
// package only turns text into those types. It imports policy and nothing
// else of Baton's; policy does not import it, so the decisions can be
// table-tested with policies built in Go.
package yamlfile
