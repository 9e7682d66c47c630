package claimclient_test

import (
	"context"
	"fmt"
	"log"

	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/workflows"
)

// Start a claim, read who it was assigned to, and complete the stage as them.
func Example() {
	c, err := client.Dial(client.Options{HostPort: "127.0.0.1:7233"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	claims := claimclient.New(c, workflows.TaskQueue)

	if _, err := claims.Start(ctx, workflows.ClaimInput{ClaimID: "C-1001", Owner: "gus"}); err != nil {
		log.Fatal(err)
	}
	state, err := claims.State(ctx, "C-1001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(state.Stage, state.Status, state.Assignee)

	_, err = claims.Complete(ctx, "C-1001", workflows.CompleteInput{Actor: "someone-else"})
	switch {
	case claimclient.IsForbidden(err):
		fmt.Println("rejected:", claimclient.Message(err)) // only the assignee completes
	case err != nil:
		log.Fatal(err)
	}
}
