package claimclient

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/interceptor"

	"github.com/batonhq/baton/internal/actorauth"
)

// SignActors returns the client interceptor that signs each Update's actor with
// key (BATON_ACTOR_KEY: one key, or several comma-separated, the first
// signing), for a worker that refuses unsigned Updates. Set it when dialling the
// client claimclient wraps:
//
//	signer, err := claimclient.SignActors(os.Getenv("BATON_ACTOR_KEY"))
//	c, err := client.Dial(client.Options{HostPort: addr, Interceptors: []interceptor.ClientInterceptor{signer}})
//	claims := claimclient.New(c, "")
//
// An empty key is an error: there is nothing to sign with.
func SignActors(key string) (interceptor.ClientInterceptor, error) {
	keys, err := actorauth.ParseKeys(key)
	if err != nil {
		return nil, fmt.Errorf("actor key: %w", err)
	}
	if keys == nil {
		return nil, errors.New("actor key: empty: nothing to sign with")
	}
	return actorauth.NewSigner(keys), nil
}
