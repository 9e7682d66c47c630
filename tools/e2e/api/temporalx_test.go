package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/batonhq/baton/internal/batontest"
	"github.com/batonhq/baton/internal/temporalx"
	"github.com/batonhq/baton/tools/testenv"
	"github.com/batonhq/baton/workflows"
)

func TestEnsureSearchAttributesOnBareNamespace(t *testing.T) {
	t.Parallel()
	_, c := testenv.Temporal(t)
	ctx := context.Background()
	ns := fmt.Sprintf("bare-%d", rand.IntN(1e9))
	_, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(24 * time.Hour),
	})
	require.NoError(t, err)
	// A new namespace takes a moment to be served everywhere.
	batontest.Eventually(t, 30*time.Second, func() (bool, string) {
		_, err := temporalx.MissingSearchAttributes(ctx, c, ns)
		return err == nil, fmt.Sprint(err)
	})

	err = temporalx.EnsureSearchAttributes(ctx, c, ns, false)
	want := slices.Sorted(slices.Values(workflows.SearchAttributeNames))
	require.ErrorContains(t, err, "namespace "+ns+" lacks Baton's search attributes "+strings.Join(want, ", "))
	require.ErrorContains(t, err, "temporal operator search-attribute create --namespace "+ns+" --name BatonStage --type Keyword")

	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, temporalx.EnsureSearchAttributes(wait, c, ns, true))
	missing, err := temporalx.MissingSearchAttributes(ctx, c, ns)
	require.NoError(t, err)
	require.Empty(t, missing)
}
