package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/batonhq/baton/policy"
)

func scanGroup(row pgx.Row) (policy.ReassignmentGroup, error) {
	var g policy.ReassignmentGroup
	var method string
	var timeoutMS int64
	err := row.Scan(&g.Name, &g.DefaultAssignee, &method, &timeoutMS, &g.Members)
	g.Method, g.OfferTimeout = policy.GroupMethod(method), time.Duration(timeoutMS)*time.Millisecond
	return g, err
}

// Group returns one reassignment group, or ErrNotFound.
func (qs *Queries) Group(ctx context.Context, name string) (policy.ReassignmentGroup, error) {
	g, err := scanGroup(qs.db.QueryRow(ctx, q("GroupGet"), name))
	if errors.Is(err, pgx.ErrNoRows) {
		return g, fmt.Errorf("reassignment group %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return g, fmt.Errorf("get reassignment group %q: %w", name, err)
	}
	return g, nil
}

// Groups lists every reassignment group.
func (qs *Queries) Groups(ctx context.Context) ([]policy.ReassignmentGroup, error) {
	return collect(ctx, qs, "list reassignment groups", q("GroupList"),
		func(r pgx.CollectableRow) (policy.ReassignmentGroup, error) { return scanGroup(r) })
}

// ApplyGroups upserts reassignment groups in its own transaction, as the
// system: who may is the caller's to decide (service.Service.ApplyGroups asks
// policy.AuthorizeGroupEdit in the transaction it runs Queries.ApplyGroups in).
func (s *Store) ApplyGroups(ctx context.Context, file, actor string, groups []policy.ReassignmentGroup) error {
	return s.InTx(ctx, func(qs *Queries) error { return qs.ApplyGroups(ctx, file, actor, groups) })
}

// ApplyGroups upserts reassignment groups, by actor (recorded). Members and
// default assignees must be known users; the first unknown one fails the whole
// apply with its file and line, and the caller's transaction changes nothing.
// Editing a group's members keeps its turn state: the round in progress
// completes.
func (qs *Queries) ApplyGroups(ctx context.Context, file, actor string, groups []policy.ReassignmentGroup) error {
	for i, g := range groups {
		ids := append([]string{g.DefaultAssignee}, g.Members...)
		rows, err := qs.db.Query(ctx, q("UserIDsExisting"), ids)
		if err != nil {
			return err
		}
		known, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		set := map[string]bool{}
		for _, id := range known {
			set[id] = true
		}
		if !set[g.DefaultAssignee] {
			return &policy.FieldError{File: file, Line: g.Line, Field: fmt.Sprintf("groups[%d].defaultAssignee", i),
				Msg: fmt.Sprintf("unknown user %q", g.DefaultAssignee)}
		}
		for j, m := range g.Members {
			if !set[m] {
				return &policy.FieldError{File: file, Line: g.MemberLines[j], Field: fmt.Sprintf("groups[%d].members[%d]", i, j),
					Msg: fmt.Sprintf("unknown user %q", m)}
			}
		}
		if _, err := qs.db.Exec(ctx, q("GroupUpsert"), g.Name, g.DefaultAssignee, g.Method, g.OfferTimeout.Milliseconds(), actor); err != nil {
			return fmt.Errorf("%s:%d: group %q: %w", file, g.Line, g.Name, err)
		}
		if _, err := qs.db.Exec(ctx, q("GroupMembersClear"), g.Name); err != nil {
			return err
		}
		if _, err := qs.db.Exec(ctx, q("GroupMembersAdd"), g.Name, g.Members); err != nil {
			return err
		}
	}
	return nil
}
