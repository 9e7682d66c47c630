package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
)

// People's status and workload.

// StatusBody is PUT /api/users/{user_id}/status's body.
type StatusBody struct {
	Status string `json:"status"`
}

// StatusResult is its answer: the status set, the one it replaced, and how
// many waiting stages were asked to decide again.
type StatusResult = service.StatusResult

// userWorkload answers GET /api/users/{user_id}: the person's status, limits and
// open stages. Anyone may read their own; admins anyone's.
func (s *Server) userWorkload(w http.ResponseWriter, r *http.Request) {
	id := pathUser(r)
	me := caller(r)
	work, err := s.svc.Workload(r.Context(), &me, id)
	if err != nil {
		s.fail(w, r, err, userFailure("read the workload of", id))
		return
	}
	writeJSON(w, http.StatusOK, work)
}

// setStatus answers PUT /api/users/{user_id}/status: the caller sets their own
// status, or an admin anyone's (policy.AuthorizeStatusChange).
func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	id := pathUser(r)
	var body StatusBody
	if !decodeBody(w, r, &body, true) {
		return
	}
	status, err := policy.ParseAvailability(body.Status)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", "status: "+err.Error())
		return
	}
	res, err := s.svc.SetStatus(r.Context(), caller(r).ID, id, status)
	if err != nil {
		s.fail(w, r, err, userFailure("set the status of", id))
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// userFailure names the failures of an action on user id: not found is
// user_not_found, an invalid value invalid_body.
func userFailure(what, id string) failure {
	return failure{what: what + " " + id, notFound: "user " + id + " not found",
		codes: map[policy.Kind]string{policy.KindNotFound: "user_not_found", policy.KindInvalid: "invalid_body"}}
}

// pathUser is the {user_id} of the path; "me" is the caller.
func pathUser(r *http.Request) string {
	if id := r.PathValue("user_id"); id != "me" {
		return id
	}
	return caller(r).ID
}

// ActiveResult is the answer of POST /api/users/{user_id}/deactivate and
// /activate: on deactivation, how many open stages were sent to be decided
// again; already, that the user was so before.
type ActiveResult = service.ActiveResult

func (s *Server) deactivate(w http.ResponseWriter, r *http.Request) { s.setActive(w, r, false) }

func (s *Server) activate(w http.ResponseWriter, r *http.Request) { s.setActive(w, r, true) }

// setActive deactivates or reactivates a user (admins only); a deactivation
// re-routes every stage they hold, and repeating it finishes one cut short.
func (s *Server) setActive(w http.ResponseWriter, r *http.Request, active bool) {
	id := pathUser(r)
	res, err := s.svc.SetActive(r.Context(), caller(r).ID, id, active)
	switch {
	case errors.Is(err, service.ErrNotRerouted):
		s.log.ErrorContext(r.Context(), "redistribute", "user", id, "error", err)
		writeError(w, http.StatusBadGateway, "temporal_error", err.Error())
	case err != nil:
		s.fail(w, r, err, userFailure("change", id))
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// AbsenceBody is POST /api/users/{user_id}/absences's body: from (default now)
// and until in RFC 3339, and an optional delegate.
type AbsenceBody struct {
	From     string `json:"from"`
	Until    string `json:"until"`
	Delegate string `json:"delegate"`
}

// addAbsence records an out-of-office period for the caller (me) or, for an
// admin, anyone.
func (s *Server) addAbsence(w http.ResponseWriter, r *http.Request) {
	id := pathUser(r)
	var body AbsenceBody
	if !decodeBody(w, r, &body, true) {
		return
	}
	a := store.Absence{From: time.Now().UTC(), Delegate: body.Delegate}
	var err error
	if body.From != "" {
		if a.From, err = time.Parse(time.RFC3339, body.From); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("from: %q is not RFC 3339", body.From))
			return
		}
	}
	if a.Until, err = time.Parse(time.RFC3339, body.Until); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_body", fmt.Sprintf("until: %q is not RFC 3339 (it is required)", body.Until))
		return
	}
	if _, err = s.svc.AddAbsence(r.Context(), caller(r).ID, id, a); err != nil {
		s.fail(w, r, err, userFailure("record the absence of", id))
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// TeamView is one page of the team view.
type TeamView = service.TeamView

// team answers GET /api/team?after=&limit= for admins: after is the next of the
// page before. Pages are read by key, so a deep page costs what the first does.
func (s *Server) team(w http.ResponseWriter, r *http.Request) {
	me := caller(r)
	if r.URL.Query().Has("offset") {
		writeError(w, http.StatusBadRequest, "invalid_query", "offset: the team view pages by cursor: pass after=NEXT from the page before")
		return
	}
	_, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	after, err := store.ParseTeamCursor(r.URL.Query().Get("after"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_query", "after="+strconv.Quote(r.URL.Query().Get("after"))+": "+
			strings.TrimSuffix(err.Error(), ": "+store.ErrInvalid.Error()))
		return
	}
	view, err := s.svc.Team(r.Context(), &me, after, limit)
	if err != nil {
		s.fail(w, r, err, failure{what: "read the team"})
		return
	}
	writeJSON(w, http.StatusOK, view)
}
