package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/internal/service"
	"github.com/batonhq/baton/internal/store"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/workflows"
)

// The caller's own views: who they are, the queue, their inbox.

const (
	// DefaultPageSize and MaxPageSize bound GET /api/queue's page_size.
	DefaultPageSize = 50
	MaxPageSize     = 200
	// QueueScanLimit is how many open claims GET /api/queue reads from Temporal
	// visibility (newest first) before ordering them unassigned first; the same
	// cap as the queue-depth metric.
	QueueScanLimit = 10000
	// DefaultInboxLimit and MaxInboxLimit bound GET /api/inbox's limit.
	DefaultInboxLimit = 100
	MaxInboxLimit     = 500
)

// Me is GET /api/me.
type Me struct {
	UserID string `json:"userId"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Admin  bool   `json:"admin"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	u := caller(r)
	writeJSON(w, http.StatusOK, Me{UserID: u.ID, Name: u.Name, Email: u.Email, Admin: u.IsAdmin()})
}

// QueuePage is GET /api/queue's answer.
type QueuePage = service.QueuePage

// queue lists open claims, unassigned first (then reassigning, deciding, the
// rest; oldest first within each), one page at a time.
func (s *Server) queue(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownParams(w, q, "queue", "stage", "status", "since", "policy", "page", "page_size") {
		return
	}
	f := claimclient.ListFilter{Queue: q.Get("queue"), Limit: QueueScanLimit}
	if v := q.Get("stage"); v != "" {
		stage, err := policy.ParseStage(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_query", "stage: "+err.Error())
			return
		}
		f.Stage = string(stage)
	}
	if v := q.Get("status"); v != "" {
		open := []string{workflows.StatusUnassigned, workflows.StatusAssigned, workflows.StatusReassigning,
			workflows.StatusOpen, workflows.StatusDeciding}
		if !slices.Contains(open, v) {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf(
				"status %q: want one of %s (the queue lists open claims only)", v, strings.Join(open, ", ")))
			return
		}
		f.Status = v
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, v); err != nil {
				writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("since %q: want YYYY-MM-DD or an RFC 3339 time", v))
				return
			}
		}
		f.Since = t
	}
	page, ok := intParam(w, q, "page", 1, 1, QueueScanLimit)
	if !ok {
		return
	}
	size, ok := intParam(w, q, "page_size", DefaultPageSize, 1, MaxPageSize)
	if !ok {
		return
	}
	out, err := s.svc.Queue(r.Context(), caller(r), f, q.Get("policy"), page, size)
	switch {
	case errors.Is(err, service.ErrNoListing):
		s.log.ErrorContext(r.Context(), "list claims", "error", err)
		writeError(w, http.StatusBadGateway, "temporal_unavailable", "could not list claims from Temporal")
	case err != nil:
		s.log.ErrorContext(r.Context(), "which claims the caller may read", "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not check which claims you may read")
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// inbox lists the caller's notifications, newest first: unread only unless all=true.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !knownParams(w, q, "all", "limit") {
		return
	}
	all := false
	if v := q.Get("all"); v != "" {
		var err error
		if all, err = strconv.ParseBool(v); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("all %q: want true or false", v))
			return
		}
	}
	limit, ok := intParam(w, q, "limit", DefaultInboxLimit, 1, MaxInboxLimit)
	if !ok {
		return
	}
	items, err := s.store.Inbox(r.Context(), caller(r).ID, all, limit)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read inbox", "user", caller(r).ID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read your inbox")
		return
	}
	if items == nil {
		items = []store.InboxItem{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// inboxReadScan is how far back marking an already-read item read again looks
// for it among the caller's items.
const inboxReadScan = 1000

// inboxRead marks one of the caller's items read: 204, also when it already was.
// Another user's item, or none, is 404: the caller cannot tell which.
func (s *Server) inboxRead(w http.ResponseWriter, r *http.Request) {
	me := caller(r).ID
	id, err := strconv.ParseInt(r.PathValue("item_id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusBadRequest, "invalid_item_id", fmt.Sprintf("inbox item id %q: want a positive whole number", r.PathValue("item_id")))
		return
	}
	changed, err := s.store.InboxMarkRead(r.Context(), me, id)
	if err == nil && !changed {
		// Unchanged: not the caller's, or already read (idempotent).
		var items []store.InboxItem
		items, err = s.store.Inbox(r.Context(), me, true, inboxReadScan)
		changed = slices.ContainsFunc(items, func(it store.InboxItem) bool { return it.ID == id })
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "mark inbox item read", "user", me, "item", id, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not update your inbox")
		return
	}
	if !changed {
		writeError(w, http.StatusNotFound, "inbox_item_not_found", fmt.Sprintf("you have no inbox item %d", id))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// knownParams rejects query parameters the endpoint does not take, so a typo
// (stauts=) is an error rather than a silently unfiltered answer.
func knownParams(w http.ResponseWriter, q url.Values, known ...string) bool {
	var unknown []string
	for k := range q {
		if !slices.Contains(known, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) == 0 {
		return true
	}
	sort.Strings(unknown)
	writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("unknown query parameter %s: want %s",
		strings.Join(unknown, ", "), strings.Join(known, ", ")))
	return false
}

// intParam reads a whole-number parameter in [lo, hi] (hi 0: no upper bound).
func intParam(w http.ResponseWriter, q url.Values, name string, def, lo, hi int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || (hi > 0 && n > hi) {
		want := fmt.Sprintf("a whole number from %d", lo)
		if hi > 0 {
			want = fmt.Sprintf("a whole number from %d to %d", lo, hi)
		}
		writeError(w, http.StatusBadRequest, "invalid_query", fmt.Sprintf("%s %q: want %s", name, v, want))
		return 0, false
	}
	return n, true
}
