package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/policy"
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
	if err != nil {
		f := failure{what: "store the reassignment groups"}
		if errors.Is(err, service.ErrUnreadable) {
			f.codes = map[policy.Kind]string{policy.KindInvalid: "invalid_body"}
		}
		s.fail(w, r, err, f)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": n})
}
