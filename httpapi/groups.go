package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
)

// groups lists the reassignment groups.
func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.store.Groups(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "list groups", "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the reassignment groups")
		return
	}
	if gs == nil {
		gs = []policy.ReassignmentGroup{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": gs})
}

// applyGroups upserts reassignment groups from a groups document (the same YAML
// or JSON as a groups file) on behalf of the caller, who needs the
// ManageReassignmentGroups permission (reassignment-groups source). All or
// nothing: a bad row or an unknown user changes nothing.
func (s *Server) applyGroups(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes))
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	n, err := s.svc.ApplyGroups(r.Context(), caller(r).ID, "request body", body)
	var fe *policy.FieldError
	switch {
	case errors.Is(err, store.ErrForbidden):
		writeError(w, http.StatusForbidden, "forbidden", message(err, store.ErrForbidden))
	case errors.As(err, &fe):
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid_body", err.Error())
	case err != nil:
		s.log.ErrorContext(r.Context(), "apply groups", "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not store the reassignment groups")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"applied": n})
	}
}
