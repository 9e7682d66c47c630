package workflows

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"go.temporal.io/sdk/workflow"

	"github.com/batonhq/baton/policy"
)

// Start inputs and Update arguments come from any Temporal client: the Go SDK,
// another SDK, or the temporal CLI typing JSON by hand. They are decoded
// strictly (an unknown field is an error, named), and their decoding never
// fails: what cannot be used is kept with the input (undecodable) and the
// workflow answers it with a typed BatonInvalidRequest naming the field, where
// the SDK's own decode failure would fail the claim or reject the update with
// an untyped error.

// ValidateClaimID rejects ids that would make awkward workflow ids and URLs:
// empty, longer than 200 bytes, or holding spaces, slashes, '?', '#' or
// unprintable characters. The workflow, claimclient and the HTTP API all apply
// this one rule.
func ValidateClaimID(id string) error {
	if id == "" {
		return fmt.Errorf("claim id is required")
	}
	if len(id) > 200 {
		return fmt.Errorf("claim id %q is longer than 200 characters", strings.ToValidUTF8(id[:20], "")+"…")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || r == '/' || r == '?' || r == '#' || !unicode.IsPrint(r) {
			return fmt.Errorf("claim id %q: no spaces, slashes, '?' or '#'", id)
		}
	}
	return nil
}

// ClaimData is a claim's attributes, what rules, expressions and product
// modules read: strings by name. Decoded from JSON it also takes numbers and
// booleans, kept as their JSON text ({"amount": 1200} is "1200", true is
// "true"), so a rule matches them as it would the string; null leaves the
// attribute unset. A nested object or array is an error naming the attribute.
type ClaimData map[string]string

// UnmarshalJSON decodes a JSON object of strings, numbers, booleans and nulls.
func (d *ClaimData) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			return fmt.Errorf("field %q must be a JSON object of strings, not %s", "data", typ.Value)
		}
		return err
	}
	if raw == nil { // "data": null
		*d = nil
		return nil
	}
	out := make(ClaimData, len(raw))
	var nested []string
	for k, v := range raw {
		switch v[0] {
		case '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out[k] = s
		case '{', '[':
			nested = append(nested, k)
		case 'n': // null
		default: // a number, true or false: its JSON text, as sent
			out[k] = string(v)
		}
	}
	if len(nested) > 0 {
		slices.Sort(nested) // the same message whatever the map's order
		return fmt.Errorf("field %q: an attribute is a string, number or boolean, not an object or array (%s)",
			"data."+nested[0], strings.Join(nested, ", "))
	}
	*d = out
	return nil
}

// decodeStrict decodes one JSON value into v, a pointer to a struct type with no
// UnmarshalJSON of its own (an alias of the input type), rejecting fields the
// struct lacks. what names the input in messages ("start input", "assign").
func decodeStrict(b []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	want := JSONFields(v)
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("%s: the input must be a JSON object %s, not %s", what, want, typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: field %q must be a JSON %s, not %s", what, typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("%s: unknown field %s: want %s", what, strings.TrimPrefix(err.Error(), "json: unknown field "), want)
	}
	return fmt.Errorf("%s: %s", what, strings.TrimPrefix(err.Error(), "json: "))
}

// JSONFields lists the JSON field names of a struct, or of what v points to, as
// messages about an unknown field name them: {"actor", "outcome", "note"}. The
// HTTP API's bodies use it too, so both answer the same way.
func JSONFields(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("baton") == "internal" {
			continue // set by Baton itself, never by a caller (ClaimInput.Continued)
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); f.IsExported() && name != "" && name != "-" {
			names = append(names, fmt.Sprintf("%q", name))
		}
	}
	return "{" + strings.Join(names, ", ") + "}"
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "number"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.Kind().String()
}

// UnmarshalJSON decodes a start input strictly. It does not fail: what it
// cannot use is kept, and the claim fails with it, typed (see StartCheck).
func (in *ClaimInput) UnmarshalJSON(b []byte) error {
	type plain ClaimInput
	p, err := decodeInput[plain](b, "start input")
	*in, in.undecodable = ClaimInput(p), err
	return nil
}

// decodeInput is the one strict decoder of the claim's inputs: b decoded
// into P, a method-less copy of the input's type (so decoding does not call
// its UnmarshalJSON again), and what could not be decoded, naming the field.
// Each input's UnmarshalJSON keeps the error for its validator to refuse.
func decodeInput[P any](b []byte, what string) (P, error) {
	var p P
	err := decodeStrict(b, &p, what)
	return p, err
}

// StartCheck is what the claim's first activity judges its start on: the
// input as decoded, and the workflow id it runs as.
func (in ClaimInput) StartCheck(workflowID string) StartCheck {
	s := StartCheck{WorkflowID: workflowID, ClaimID: in.ClaimID, Owner: in.Owner}
	if in.undecodable != nil {
		s.Undecodable = in.undecodable.Error()
	}
	return s
}

// Check reports what is wrong with a claim's start that needs no directory:
// an input that could not be decoded, a missing or malformed claim id, or a
// workflow id other than WorkflowID(ClaimID). Each message names the field.
func (s StartCheck) Check() error {
	if s.Undecodable != "" {
		return errors.New(s.Undecodable)
	}
	if err := ValidateClaimID(s.ClaimID); err != nil {
		return fmt.Errorf("start input: field %q: %w", "claimId", err)
	}
	if want := WorkflowID(s.ClaimID); s.WorkflowID != want {
		return fmt.Errorf("start input: field %q: claim %s must run as workflow id %s, not %s", "claimId", s.ClaimID, want, s.WorkflowID)
	}
	return nil
}

// UnmarshalJSON decodes the assign update's argument strictly.
func (in *AssignInput) UnmarshalJSON(b []byte) error {
	type plain AssignInput
	p, err := decodeInput[plain](b, UpdateAssign)
	*in, in.undecodable = AssignInput(p), err
	return nil
}

// UnmarshalJSON decodes the complete_stage update's argument strictly.
func (in *CompleteInput) UnmarshalJSON(b []byte) error {
	type plain CompleteInput
	p, err := decodeInput[plain](b, UpdateCompleteStage)
	*in, in.undecodable = CompleteInput(p), err
	return nil
}

// UnmarshalJSON decodes the claim update's argument strictly.
func (in *ClaimStageInput) UnmarshalJSON(b []byte) error {
	type plain ClaimStageInput
	p, err := decodeInput[plain](b, UpdateClaim)
	*in, in.undecodable = ClaimStageInput(p), err
	return nil
}

// UnmarshalJSON decodes the unassign update's argument strictly.
func (in *UnassignInput) UnmarshalJSON(b []byte) error {
	type plain UnassignInput
	p, err := decodeInput[plain](b, UpdateUnassign)
	*in, in.undecodable = UnassignInput(p), err
	return nil
}

// UnmarshalJSON decodes the start_reassignment update's argument strictly.
func (in *StartReassignmentInput) UnmarshalJSON(b []byte) error {
	type plain StartReassignmentInput
	p, err := decodeInput[plain](b, UpdateStartReassignment)
	*in, in.undecodable = StartReassignmentInput(p), err
	return nil
}

// UnmarshalJSON decodes the migrate_policy update's argument strictly.
func (in *MigratePolicyInput) UnmarshalJSON(b []byte) error {
	type plain MigratePolicyInput
	p, err := decodeInput[plain](b, UpdateMigratePolicy)
	*in, in.undecodable = MigratePolicyInput(p), err
	return nil
}

// strictly rejects an update whose argument could not be decoded (err, naming
// the field) or holds text past its bounds or with control characters
// (texts, from the argument's texts method: policy.CheckText), before
// validate judges it.
func strictly(update string, err, texts error, validate func() error) error {
	if err != nil {
		return reject(ErrTypeInvalid, "%v", err)
	}
	if texts != nil {
		return reject(ErrTypeInvalid, "%s: %v", update, texts)
	}
	return validate()
}

// texts checks each Update argument's ids and free text (policy.CheckID,
// policy.CheckComment): the first field at fault.
func (in AssignInput) texts() error {
	return cmp.Or(policy.CheckID("actor", in.Actor), policy.CheckID("userId", in.UserID), policy.CheckComment("comment", in.Comment))
}

func (in ClaimStageInput) texts() error { return policy.CheckID("actor", in.Actor) }

func (in UnassignInput) texts() error {
	return cmp.Or(policy.CheckID("actor", in.Actor), policy.CheckComment("comment", in.Comment))
}

func (in StartReassignmentInput) texts() error {
	return cmp.Or(policy.CheckID("actor", in.Actor), policy.CheckID("group", in.Group), policy.CheckComment("comment", in.Comment))
}

func (in MigratePolicyInput) texts() error {
	return cmp.Or(policy.CheckID("actor", in.Actor), policy.CheckComment("comment", in.Comment))
}

func (in CompleteInput) texts() error {
	return cmp.Or(policy.CheckID("actor", in.Actor), policy.CheckID("outcome", in.Outcome), policy.CheckComment("note", in.Note))
}

// ActorOf returns the actor an Update's argument names, for the actor
// assertion that must match it; ok is false for a value that is not one of the
// six update inputs.
func ActorOf(arg any) (actor string, ok bool) {
	switch in := arg.(type) {
	case AssignInput:
		return in.Actor, true
	case CompleteInput:
		return in.Actor, true
	case ClaimStageInput:
		return in.Actor, true
	case UnassignInput:
		return in.Actor, true
	case StartReassignmentInput:
		return in.Actor, true
	case MigratePolicyInput:
		return in.Actor, true
	}
	return "", false
}

// ArgsDigest is what an actor assertion binds of an Update's argument: the
// SHA-256, base64url without padding, of the argument as the workflow decodes
// it (into the update's input type, then encoded again), so a signer that sent
// a map and a verifier that holds the decoded struct agree, and any change to
// any field (the user assigned, the outcome, the comment) breaks the
// signature. An update Baton does not know is digested as sent.
func ArgsDigest(update string, arg any) (string, error) {
	b, err := json.Marshal(arg)
	if err != nil {
		return "", fmt.Errorf("digest the arguments of %s: %w", update, err)
	}
	var typed any
	switch update {
	case StartAssertion:
		typed = &ClaimInput{}
	case UpdateAssign:
		typed = &AssignInput{}
	case UpdateClaim:
		typed = &ClaimStageInput{}
	case UpdateUnassign:
		typed = &UnassignInput{}
	case UpdateCompleteStage:
		typed = &CompleteInput{}
	case UpdateStartReassignment:
		typed = &StartReassignmentInput{}
	case UpdateMigratePolicy:
		typed = &MigratePolicyInput{}
	}
	if typed != nil {
		if err := json.Unmarshal(b, typed); err != nil {
			return "", fmt.Errorf("digest the arguments of %s: %w", update, err)
		}
		if b, err = json.Marshal(typed); err != nil {
			return "", fmt.Errorf("digest the arguments of %s: %w", update, err)
		}
	}
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// StartAssertion is what an actor assertion names as its "update" when it
// signs a claim's start, its actor being the claim's owner ("" for none).
const StartAssertion = "start"

// AssertionHeader is the Temporal header field that carries an actor
// assertion (actorauth.HeaderKey).
const AssertionHeader = "baton-actor"

type startAssertionKey struct{}

// WithStartAssertion hands the claim workflow its start's actor assertion
// (the header's JSON), for PinPolicy to check: actorauth's verifying worker
// interceptor calls it as the workflow starts.
func WithStartAssertion(ctx workflow.Context, assertion []byte) workflow.Context {
	return workflow.WithValue(ctx, startAssertionKey{}, assertion)
}

func startAssertion(ctx workflow.Context) []byte {
	b, _ := ctx.Value(startAssertionKey{}).([]byte)
	return b
}
