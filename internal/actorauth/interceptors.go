package actorauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/workflows"
)

// Signer is a client interceptor that signs every Update the client sends
// with an assertion of the actor the Update's argument names. Set it in
// client.Options.Interceptors of the programs that hold the key.
type Signer struct {
	interceptor.ClientInterceptorBase
	keys Keys
	now  func() time.Time
}

// NewSigner signs with the first of keys.
func NewSigner(keys Keys) *Signer { return &Signer{keys: keys, now: time.Now} }

// InterceptClient implements interceptor.ClientInterceptor.
func (s *Signer) InterceptClient(next interceptor.ClientOutboundInterceptor) interceptor.ClientOutboundInterceptor {
	return &signingOutbound{ClientOutboundInterceptorBase: interceptor.ClientOutboundInterceptorBase{Next: next}, s: s}
}

type signingOutbound struct {
	interceptor.ClientOutboundInterceptorBase
	s *Signer
}

func (o *signingOutbound) UpdateWorkflow(ctx context.Context, in *interceptor.ClientUpdateWorkflowInput) (client.WorkflowUpdateHandle, error) {
	if err := o.s.sign(ctx, "actor", in.WorkflowID, in.UpdateName, in.UpdateID, firstArg(in.Args)); err != nil {
		return nil, fmt.Errorf("update %s of %s: %w", in.UpdateName, in.WorkflowID, err)
	}
	return o.Next.UpdateWorkflow(ctx, in)
}

// ExecuteWorkflow signs a claim's start: its owner ("" for none) is the
// actor, workflows.StartAssertion the update, and the digest of its input the
// arguments. The claim's first local activity checks it (Keys.VerifyStart).
func (o *signingOutbound) ExecuteWorkflow(ctx context.Context, in *interceptor.ClientExecuteWorkflowInput) (client.WorkflowRun, error) {
	if in.WorkflowType != workflows.ClaimWorkflowName {
		return o.Next.ExecuteWorkflow(ctx, in)
	}
	if err := o.s.sign(ctx, "owner", in.Options.ID, workflows.StartAssertion, "", firstArg(in.Args)); err != nil {
		return nil, fmt.Errorf("start %s: %w", in.Options.ID, err)
	}
	return o.Next.ExecuteWorkflow(ctx, in)
}

// sign puts in ctx's Temporal header an assertion that the user arg names in
// its field (as the workflow will decode it: "actor" of an update, "owner" of
// a start; empty when arg is not an object or names none, which the workflow
// then rejects) acts in update updateID of workflowID, with arg's digest.
func (s *Signer) sign(ctx context.Context, field, workflowID, update, updateID string, arg any) error {
	b, err := json.Marshal(arg)
	if err != nil {
		return fmt.Errorf("find the %s to sign for: %w", field, err)
	}
	var named map[string]any
	_ = json.Unmarshal(b, &named)
	actor, _ := named[field].(string)
	digest, err := workflows.ArgsDigest(update, arg)
	if err != nil {
		return err
	}
	a := s.keys.Sign(Assertion{Actor: actor, WorkflowID: workflowID, Update: update, UpdateID: updateID,
		Args: digest, Expires: s.now().Add(Lifetime).Unix()})
	p, err := converter.GetDefaultDataConverter().ToPayload(a)
	if err != nil {
		return fmt.Errorf("encode actor assertion: %w", err)
	}
	interceptor.Header(ctx)[HeaderKey] = p
	return nil
}

// firstArg is an Update's argument (Baton's take one), or nil.
func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// Verifier is a worker interceptor that rejects, in validation, every Update to
// a claim workflow whose actor assertion does not hold (see Keys.Verify). The
// rejection is a BatonForbidden naming the update, the claim and the reason.
type Verifier struct {
	interceptor.WorkerInterceptorBase
	keys Keys
}

// NewVerifier checks assertions against keys.
func NewVerifier(keys Keys) *Verifier { return &Verifier{keys: keys} }

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (v *Verifier) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &verifyingInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, keys: v.keys}
}

type verifyingInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	keys Keys
}

// ExecuteWorkflow hands a claim workflow its start's assertion (the header's
// JSON) for its first local activity, PinPolicy, to check: there, and not
// here, so the verdict is recorded and a claim replays as it was judged
// whatever keys the worker holds later.
func (i *verifyingInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	if p, ok := interceptor.WorkflowHeader(ctx)[HeaderKey]; ok && workflow.GetInfo(ctx).WorkflowType.Name == workflows.ClaimWorkflowName {
		ctx = workflows.WithStartAssertion(ctx, p.GetData())
	}
	return i.Next.ExecuteWorkflow(ctx, in)
}

// ValidateUpdate runs only when an Update arrives, never on replay, so a
// changed key or an expired assertion never alters a claim's past. Its clock
// is workflow.Now: the time of the workflow task that validates.
func (i *verifyingInbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	info := workflow.GetInfo(ctx)
	if info.WorkflowType.Name != workflows.ClaimWorkflowName {
		return i.Next.ValidateUpdate(ctx, in)
	}
	arg := firstArg(in.Args)
	actor, _ := workflows.ActorOf(arg)
	digest, err := workflows.ArgsDigest(in.Name, arg)
	if err != nil {
		return i.reject(in.Name, info.WorkflowExecution.ID, err)
	}
	want := Assertion{Actor: actor, WorkflowID: info.WorkflowExecution.ID, Update: in.Name, UpdateID: workflow.GetCurrentUpdateInfo(ctx).ID,
		Args: digest}
	var got *Assertion
	if p, ok := interceptor.WorkflowHeader(ctx)[HeaderKey]; ok {
		got = &Assertion{}
		if err := converter.GetDefaultDataConverter().FromPayload(p, got); err != nil {
			return i.reject(in.Name, info.WorkflowExecution.ID, fmt.Errorf("the actor assertion is not readable: %w", err))
		}
	}
	if err := i.keys.Verify(got, want, workflow.Now(ctx)); err != nil {
		return i.reject(in.Name, info.WorkflowExecution.ID, err)
	}
	return i.Next.ValidateUpdate(ctx, in)
}

func (i *verifyingInbound) reject(update, workflowID string, err error) error {
	msg := fmt.Sprintf("%s on %s refused: %v", update, workflowID, err)
	if errors.Is(err, ErrNoAssertion) {
		msg = fmt.Sprintf("%s on %s refused: no actor assertion (header %s); this worker takes only updates signed with "+
			"BATON_ACTOR_KEY, as claimclient, the starter and the HTTP API send them", update, workflowID, HeaderKey)
	}
	return temporal.NewNonRetryableApplicationError(msg, workflows.ErrTypeForbidden, nil)
}
