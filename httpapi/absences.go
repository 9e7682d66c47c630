package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/store"
)

// StartAbsences acts, once each, on the absences that have begun: each claim
// whose current stage the absent person holds is sent redistribute, and moves
// the stage where its policy says onAbsence: redistribute. It returns how many
// claims were signalled. The worker's sweeper runs it every few seconds; the
// commands that record an absence run it at once.
func StartAbsences(ctx context.Context, st *store.Store, claims *claimclient.Client) (int, error) {
	started, err := st.AbsencesStart(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range started {
		reason := fmt.Sprintf("%s is away until %s", a.UserID, a.Until.UTC().Format(time.RFC3339))
		if err := claims.RedistributeAbsent(ctx, a.Held, a.UserID, reason); err != nil {
			return n, err
		}
		n += len(a.Held)
	}
	return n, nil
}
