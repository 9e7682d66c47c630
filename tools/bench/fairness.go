package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/batonhq/baton/activities"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// FairnessRow is figure 4 for one burst: max − min assignments per user.
type FairnessRow struct {
	Burst     int
	Baton     int
	Modulus   int
	Random    int
	BatonUses map[string]int
}

// Fairness sends bursts of simultaneous claims at round robin through the real
// activity and database, and the same bursts through 001's timestamp modulus
// (each claim picks with the clock at the moment it arrives) and a seeded random
// pick.
func (s *Stack) Fairness(ctx context.Context, bursts []int) ([]FairnessRow, error) {
	acts := activities.New(s.Store, mustPolicy("bench-rr.yaml", roundRobinPolicy), nil, "", s.Log)
	eligible := make([]policy.User, len(Users))
	for i, u := range Users {
		eligible[i] = policy.User{ID: u, Active: true}
	}
	var out []FairnessRow
	for _, b := range bursts {
		row := FairnessRow{Burst: b, BatonUses: map[string]int{}}
		var mu sync.Mutex
		modulus := map[string]int{}
		var wg sync.WaitGroup
		var first error
		gate := make(chan struct{})
		for i := range b {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				u, _ := policy.TimestampModulus(eligible, time.Now().UnixMilli())
				id := fmt.Sprintf("fair-%d-%04d", b, i)
				d, err := acts.ResolveAssignment(ctx, workflows.ResolveAssignmentInput{
					WorkflowID: id, Stage: policy.StageCapture, Seq: 1, At: time.Now(), Claim: policy.Claim{ID: id}})
				mu.Lock()
				defer mu.Unlock()
				modulus[u.ID]++
				if err != nil && first == nil {
					first = err
				}
				row.BatonUses[d.Assignee]++
			}()
		}
		close(gate)
		wg.Wait()
		if first != nil {
			return nil, first
		}
		rng := rand.New(rand.NewPCG(42, uint64(b)))
		random := map[string]int{}
		for range b {
			random[Users[rng.IntN(len(Users))]]++
		}
		row.Baton, row.Modulus, row.Random = spread(row.BatonUses, Users), spread(modulus, Users), spread(random, Users)
		out = append(out, row)
	}
	return out, nil
}
