package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// The queue: open claims, a page at a time, as their reader may see them.

// QueuePage is one page of the queue.
type QueuePage struct {
	Items    []claimclient.Listed `json:"items"`
	Page     int                  `json:"page"`
	PageSize int                  `json:"pageSize"`
	More     bool                 `json:"more"`
}

// ErrNoListing wraps a queue that could not be listed from Temporal's
// visibility store.
var ErrNoListing error = &policy.Error{Kind: policy.KindUnavailable, Msg: "could not list claims from Temporal"}

// Queue is one page (from 1) of the claims f lists, under the stored policy
// named (any, for ""), that me may read, in the listing's order. Listings
// are shared among callers for a moment (listCache); an action through this
// service's adapter makes the next one fresh (QueueChanged).
func (s *Service) Queue(ctx context.Context, me policy.User, f claimclient.ListFilter, policyName string, page, size int) (QueuePage, error) {
	rows, err := s.lists.get(ctx, s.claims, f)
	if err != nil {
		return QueuePage{}, fmt.Errorf("%w: %w", ErrNoListing, err)
	}
	// Enough rows to fill the page and to know whether another follows.
	skip, want := (page-1)*size, page*size+1
	if rows, err = s.readable(ctx, me, rows, policyName, want); err != nil {
		return QueuePage{}, err
	}
	out := QueuePage{Items: []claimclient.Listed{}, Page: page, PageSize: size, More: len(rows) > page*size}
	if skip < len(rows) {
		out.Items = rows[skip:min(len(rows), page*size)]
	}
	return out, nil
}

// QueueChanged forgets the shared listings: an action changed a claim, and
// whoever lists the queue next sees it.
func (s *Service) QueueChanged() { s.lists.invalidate() }

// readBatch is how many listed claims one ReadableAmong round trip checks.
const readBatch = 500

// readable keeps, in order, the listed claims under the named stored policy
// (any, for "") that user may read (mayRead), until it has want of them. An
// admin reads them all; anyone else their own claims (owner, assignee) and,
// checked against the ledger a batch at a time, those they took part in or
// are eligible for now. The policy and owner are search attributes: no claim's
// state is queried.
func (s *Service) readable(ctx context.Context, user policy.User, rows []claimclient.Listed, policyName string, want int) ([]claimclient.Listed, error) {
	// own: what the caller reads without asking the ledger.
	own := func(row claimclient.Listed) bool {
		return user.IsAdmin() || row.Owner == user.ID || row.Assignee == user.ID
	}
	out := []claimclient.Listed{}
	for start := 0; start < len(rows) && len(out) < want; start += readBatch {
		var batch, ask []claimclient.Listed
		for _, row := range rows[start:min(len(rows), start+readBatch)] {
			if policyName != "" && row.Policy != policyName {
				continue
			}
			batch = append(batch, row)
			if !own(row) {
				ask = append(ask, row)
			}
		}
		may := map[string]bool{}
		if len(ask) > 0 && s.store != nil {
			claims := make([]store.ClaimAt, len(ask))
			for i, row := range ask {
				claims[i] = store.ClaimAt{WorkflowID: workflows.WorkflowID(row.ClaimID), Stage: row.Stage}
			}
			var err error
			if may, err = s.store.ReadableAmong(ctx, user.ID, claims); err != nil {
				return nil, err
			}
		}
		for _, row := range batch {
			if own(row) || may[workflows.WorkflowID(row.ClaimID)] {
				out = append(out, row)
			}
		}
	}
	return out, nil
}

// listTTL is how long a visibility listing serves the queue before it is read
// again; listKeys how many distinct filters are kept.
const (
	listTTL  = 2 * time.Second
	listKeys = 64
)

// listCache shares one visibility listing per filter among every caller for
// listTTL: however many people page through the queue, Temporal's visibility
// store is read at most once per filter per listTTL, or once after each
// action taken through this server. A listing still being read is waited
// for, not read again.
type listCache struct {
	mu      sync.Mutex
	entries map[claimclient.ListFilter]*listing
}

type listing struct {
	done chan struct{}
	at   time.Time
	rows []claimclient.Listed
	err  error
}

func newListCache() *listCache { return &listCache{entries: map[claimclient.ListFilter]*listing{}} }

func (lc *listCache) get(ctx context.Context, claims *claimclient.Client, f claimclient.ListFilter) ([]claimclient.Listed, error) {
	lc.mu.Lock()
	e := lc.entries[f]
	if e == nil || time.Since(e.at) > listTTL {
		if len(lc.entries) >= listKeys {
			lc.evict()
		}
		e = &listing{done: make(chan struct{}), at: time.Now()}
		lc.entries[f] = e
		lc.mu.Unlock()
		// Read for everyone waiting: one caller hanging up does not fail the rest.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		e.rows, e.err = claims.List(rctx, f)
		cancel()
		if e.err != nil {
			lc.mu.Lock()
			if lc.entries[f] == e {
				delete(lc.entries, f) // the next caller tries again
			}
			lc.mu.Unlock()
		}
		close(e.done)
	} else {
		lc.mu.Unlock()
	}
	select {
	case <-e.done:
		return e.rows, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invalidate forgets every listing: an action through this server changed a
// claim. A listing still being read is finished for those waiting on it.
func (lc *listCache) invalidate() {
	lc.mu.Lock()
	clear(lc.entries)
	lc.mu.Unlock()
}

// evict drops the oldest listings, keeping the map under listKeys.
func (lc *listCache) evict() {
	for f, e := range lc.entries {
		if time.Since(e.at) > listTTL {
			delete(lc.entries, f)
		}
	}
	for len(lc.entries) >= listKeys {
		var oldest claimclient.ListFilter
		var at time.Time
		for f, e := range lc.entries {
			if at.IsZero() || e.at.Before(at) {
				oldest, at = f, e.at
			}
		}
		delete(lc.entries, oldest)
	}
}
