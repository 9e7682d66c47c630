// Command claimstarter is a service that only starts claims: it imports
// claimclient and nothing else of Baton, and links no Temporal server.
//
//	TEMPORAL_ADDRESS=127.0.0.1:7233 claimstarter CLAIM-ID [KEY=VALUE ...]
//
// TEMPORAL_NAMESPACE (default "default") and BATON_TASK_QUEUE (default
// "baton") say where Baton's worker listens.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/batonhq/baton/claimclient"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: claimstarter CLAIM-ID [KEY=VALUE ...]")
		os.Exit(2)
	}
	data := map[string]string{}
	for _, kv := range os.Args[2:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(os.Stderr, "claimstarter: %q: want KEY=VALUE\n", kv)
			os.Exit(2)
		}
		data[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{
		HostPort:  getenv("TEMPORAL_ADDRESS", client.DefaultHostPort),
		Namespace: getenv("TEMPORAL_NAMESPACE", client.DefaultNamespace),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "claimstarter: connect to Temporal:", err)
		os.Exit(1)
	}
	defer c.Close()
	claims := claimclient.New(c, getenv("BATON_TASK_QUEUE", "baton"))
	if _, err := claims.Start(ctx, claimclient.ClaimInput{ClaimID: os.Args[1], Data: data}); err != nil {
		fmt.Fprintln(os.Stderr, "claimstarter:", err)
		os.Exit(1)
	}
	fmt.Printf("started claim %s\n", os.Args[1])
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
