package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// Caller is the authenticated user of a request: the owner of its bearer token.
// It is the actor of every action the request takes.
type Caller struct {
	User    policy.User
	TokenID int64
}

type callerKey struct{}

// CallerFrom returns the request's authenticated caller.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// caller is CallerFrom for handlers, which only run behind authenticate.
func caller(r *http.Request) policy.User {
	c, ok := CallerFrom(r.Context())
	if !ok {
		panic("api: handler reached without an authenticated caller")
	}
	return c.User
}

// authenticate admits requests carrying "Authorization: Bearer <token>" for a live
// token of an active user. Anything else is 401 unauthenticated with a
// WWW-Authenticate challenge (RFC 6750). The token itself is never logged.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, present, problem := bearerToken(r)
		switch {
		case !present:
			// No credentials at all: the challenge carries no error (RFC 6750 §3.1).
			unauthenticated(w, `Bearer realm="baton"`, problem)
			return
		case problem != "":
			unauthenticated(w, `Bearer realm="baton", error="invalid_request"`, problem)
			return
		}
		if s.store == nil {
			writeError(w, http.StatusServiceUnavailable, "auth_unavailable",
				"API tokens live in the database and this server has none configured (DATABASE_URL)")
			return
		}
		user, id, err := s.store.TokenLookup(r.Context(), token)
		switch {
		case errors.Is(err, store.ErrNotFound):
			unauthenticated(w, `Bearer realm="baton", error="invalid_token"`, "the bearer token is unknown, expired or revoked")
			return
		case errors.Is(err, store.ErrUserInactive):
			unauthenticated(w, `Bearer realm="baton", error="invalid_token"`,
				"the bearer token's user \""+user.ID+"\" has been deactivated")
			return
		case err != nil:
			// err names the token's id at most, never the token.
			s.log.ErrorContext(r.Context(), "look up API token", "error", err)
			writeError(w, http.StatusInternalServerError, "database_error", "could not check the bearer token")
			return
		}
		ctx := context.WithValue(r.Context(), callerKey{}, Caller{User: user, TokenID: id})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// bearerToken extracts the token of a single "Authorization: Bearer <token>"
// header. present says whether any Authorization header was sent; problem says
// what is wrong with it, without echoing it.
func bearerToken(r *http.Request) (token string, present bool, problem string) {
	values := r.Header.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", false, "no Authorization header: send Authorization: Bearer <token>"
	case len(values) > 1:
		return "", true, "more than one Authorization header"
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", true, "the Authorization header must use the Bearer scheme: Authorization: Bearer <token>"
	}
	token = strings.TrimLeft(rest, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", true, "malformed Authorization header: want Authorization: Bearer <token>"
	}
	return token, true, ""
}

func unauthenticated(w http.ResponseWriter, challenge, msg string) {
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, "unauthenticated", msg)
}
