package activities

import (
	"slices"
	"sync"
)

// maxBatch bounds how many decisions one transaction records together: the
// scope's lock is held while they are made.
const maxBatch = 64

// scopeQueues groups the decisions of this worker that wait on the same turn
// scope. The first to arrive leads: it locks the scope, then takes every
// decision queued on it by then (those that arrived while it waited for
// another worker's batch included) and records them in one transaction (run),
// with no timer and no waiting for more. Decisions that arrive meanwhile
// queue; when the batch is done the first of them leads the next one. So a
// busy scope costs one commit per batch, not one per turn, and an idle one
// decides at once, alone.
type scopeQueues struct {
	mu     sync.Mutex
	queues map[string]*scopeQueue
}

type scopeQueue struct {
	waiting []*job
	busy    bool // a batch of the scope is being recorded
}

// waiter is how a queued decision learns its outcome, or that it leads.
type waiter struct {
	result chan error
	lead   chan struct{}
}

// do records j with the others waiting on scope and returns j's outcome. run
// records a batch led by j and answers each job's result: it calls take once,
// holding the scope's lock, for the jobs queued by then (j first). A decision
// whose context ends while it waits leaves the queue.
func (s *scopeQueues) do(scope string, j *job, run func(scope string, lead *job, take func() []*job)) error {
	j.wait = &waiter{result: make(chan error, 1), lead: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.queues == nil {
		s.queues = map[string]*scopeQueue{}
	}
	q := s.queues[scope]
	if q == nil {
		q = &scopeQueue{}
		s.queues[scope] = q
	}
	q.waiting = append(q.waiting, j)
	if q.busy {
		s.mu.Unlock()
		select {
		case err := <-j.wait.result:
			return err
		case <-j.wait.lead:
		case <-j.ctx.Done():
			if s.leave(scope, q, j) {
				return j.ctx.Err()
			}
			// Taken into a batch, or made to lead, as it gave up: go on.
			select {
			case err := <-j.wait.result:
				return err
			case <-j.wait.lead:
			}
		}
		s.mu.Lock()
	}
	q.busy = true
	s.mu.Unlock()

	run(scope, j, func() []*job {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := min(len(q.waiting), maxBatch)
		batch := slices.Clone(q.waiting[:n])
		q.waiting = slices.Delete(q.waiting, 0, n)
		return batch
	})

	s.mu.Lock()
	if len(q.waiting) > 0 {
		q.waiting[0].wait.lead <- struct{}{}
	} else {
		q.busy = false
		delete(s.queues, scope)
	}
	s.mu.Unlock()
	return <-j.wait.result
}

// leave takes j off the scope's queue if it is still waiting there and not
// made to lead; it reports whether it did.
func (s *scopeQueues) leave(scope string, q *scopeQueue, j *job) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(q.waiting, j)
	if i < 0 {
		return false
	}
	select {
	case <-j.wait.lead:
		// It was made to lead as it gave up: hand the lead on.
		q.waiting = slices.Delete(q.waiting, i, i+1)
		if len(q.waiting) > 0 {
			q.waiting[0].wait.lead <- struct{}{}
		} else {
			q.busy = false
			delete(s.queues, scope)
		}
		return true
	default:
	}
	q.waiting = slices.Delete(q.waiting, i, i+1)
	return true
}
