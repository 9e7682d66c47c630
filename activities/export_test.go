package activities

// Waiting is how many decisions wait on scope: behind the batch being recorded,
// and a leader waiting for the scope's lock before it takes its batch.
func (a *Activities) Waiting(scope string) int {
	a.turns.mu.Lock()
	defer a.turns.mu.Unlock()
	if q := a.turns.queues[scope]; q != nil {
		return len(q.waiting)
	}
	return 0
}
