package activities

// Waiting is how many decisions wait on scope behind the batch being recorded.
func (a *Activities) Waiting(scope string) int {
	a.turns.mu.Lock()
	defer a.turns.mu.Unlock()
	if q := a.turns.queues[scope]; q != nil {
		return len(q.waiting)
	}
	return 0
}
