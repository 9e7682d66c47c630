package batontest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// Row factories: tests build the rows they need from Go values with defaults,
// not from YAML strings.

// User is an active person with the permissions given and defaults for the
// rest: name and e-mail from the id, available, no limits. Change fields on
// the value for anything else.
func User(id string, permissions ...string) policy.User {
	return policy.User{ID: id, Name: id, Email: id + "@example.com", Active: true, Permissions: permissions}
}

// Team is an ordered team of the members given.
func Team(id string, members ...string) policy.DirectoryTeam {
	return policy.DirectoryTeam{Team: policy.Team{ID: id, Name: id, Members: members}}
}

// Load writes users and teams as one directory load (the path every real
// change takes: eligibility, turn orders and limits follow).
func (s *Schema) Load(t testing.TB, users []policy.User, teams ...policy.DirectoryTeam) store.LoadSummary {
	t.Helper()
	d := &policy.Directory{File: "rows", Teams: teams}
	for _, u := range users {
		d.Users = append(d.Users, policy.DirectoryUser{User: u})
	}
	sum, err := s.Store.LoadDirectory(context.Background(), d)
	require.NoError(t, err)
	return sum
}

// Decision records a decision giving stage of claim to assignee ("" leaves it
// in its queue) under seq, as a person's assignment: its ledger row, its
// timeline entry and the stage's open-stage row, as the activities write
// them. The assignee must be loaded and active.
func (s *Schema) Decision(t testing.TB, claim string, stage policy.Stage, seq int, assignee string) policy.DecisionKey {
	t.Helper()
	ctx := context.Background()
	k := policy.DecisionKey{WorkflowID: "claim/" + claim, Stage: stage, Seq: seq}
	d := policy.Decision{Seq: seq, Stage: stage, Method: policy.MethodAssign, AssignmentsEnabled: true, Assignee: assignee,
		Actor: "root", Reason: "assigned by root", PolicyVersion: "v1"}
	kind := policy.EventAssigned
	if assignee == "" {
		d.Method, d.Reason, kind = policy.MethodUnassign, "returned to the queue by root", policy.EventUnassigned
	}
	err := s.Store.InTx(ctx, func(qs *store.Queries) error {
		ok, err := qs.DecisionRecord(ctx, store.DecisionWrite{Key: k, ClaimID: claim, Decision: d,
			Event: store.TimelineEvent{WorkflowID: k.WorkflowID, ClaimID: claim, Stage: stage, Seq: seq, Kind: kind,
				Actor: "root", Subject: assignee, Reason: d.Reason}})
		if err == nil && !ok {
			err = fmt.Errorf("decision %s was already recorded", k)
		}
		return err
	})
	require.NoError(t, err)
	return k
}
