package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/batonhq/baton/claimclient"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// callerOptions asks module for a stage's assignment options on behalf of
// currentUser: the source's getClaimAssignmentOptions(policy, claim, currentUser,
// stage), under the policy version the claim runs on, with the claim's owner and
// data. It changes nothing: the claim, its decisions and every turn stay as they
// are. asked is false, and the caller should answer the stage's recorded
// decision, when there is no module, the claim runs on a policy that was never
// stored, or the stage is not decided by a product module. A module error, or an
// answer whose assigned_to is not among its users, is an error.
func callerOptions(ctx context.Context, module policy.ProductModule, st *store.Store, state workflows.ClaimState,
	stage policy.Stage, currentUser *policy.User) (opts policy.AssignmentOptions, asked bool, err error) {
	if module == nil || state.Policy.IsZero() {
		return opts, false, nil
	}
	sp, err := st.PolicyVersion(ctx, state.Policy.Name, state.Policy.Version)
	if err != nil {
		return opts, false, fmt.Errorf("read policy %s: %w", state.Policy, err)
	}
	p, err := sp.Parse()
	if err != nil {
		return opts, false, fmt.Errorf("stored policy %s: %w", state.Policy, err)
	}
	if !p.UsesProductModule(stage) {
		return opts, false, nil
	}
	claim := policy.Claim{ID: state.ClaimID, Owner: state.Owner, Data: state.Data}
	opts, err = module.GetClaimAssignmentOptions(ctx, p, claim, currentUser, stage)
	if err != nil {
		return opts, false, fmt.Errorf("product module: %w", err)
	}
	return opts, true, opts.Check()
}

// ErrModule wraps a product module's failure to answer, or an answer it
// gave that does not hold together: the HTTP API answers it 502.
var ErrModule = errors.New("product module")

// Options is a page of a stage's assignment options for caller: a product
// module's answer on their behalf where the stage is decided by one (see
// callerOptions), else the stage decision's candidates as the ledger
// recorded them, with its assignee (current, or final for a completed
// stage). caller nil reads the ledger. Errors: claimclient.ErrStageNotReached,
// ErrModule, or what the ledger read returned.
func (s *Service) Options(ctx context.Context, state workflows.ClaimState, stage policy.Stage, caller *policy.User,
	offset, limit int) (store.CandidatePage, error) {
	if caller != nil {
		opts, asked, err := callerOptions(ctx, s.module, s.store, state, stage, caller)
		if err != nil {
			return store.CandidatePage{}, fmt.Errorf("%w: %w", ErrModule, err)
		}
		if asked {
			return pageOf(ctx, s.store, opts, stage, offset, limit)
		}
	}
	key, assignee, err := claimclient.OptionsSource(state, stage)
	if err != nil {
		return store.CandidatePage{}, err
	}
	return s.store.CandidatesPage(ctx, key, assignee, offset, limit)
}

// pageOf is one page of a module's answer, shaped as a recorded decision's page:
// its listed users, or a page of its pool read from the directory.
func pageOf(ctx context.Context, st *store.Store, opts policy.AssignmentOptions, stage policy.Stage, offset, limit int) (store.CandidatePage, error) {
	page := store.CandidatePage{AssignedTo: opts.AssignedTo, Users: []policy.Candidate{}}
	if opts.Pool != nil {
		users, total, err := st.PoolPage(ctx, *opts.Pool, stage, offset, limit)
		if err != nil {
			return page, err
		}
		desc := cmp.Or(opts.Pool.Description, "Available for "+string(stage))
		page.Total, page.Users = total, append(page.Users, policy.CandidatesOf(users, desc)...)
		if offset+len(users) < total {
			page.Next = offset + len(users)
		}
		return page, nil
	}
	page.Total = len(opts.Users)
	if offset < len(opts.Users) {
		end := min(len(opts.Users), offset+limit)
		page.Users = opts.Users[offset:end]
		if end < len(opts.Users) {
			page.Next = end
		}
	}
	return page, nil
}
