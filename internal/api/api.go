// Package api is Baton's HTTP API. Every answer is JSON; every error is
// {"error": {"code": "...", "message": "..."}} with a stable code. It reads claims
// through their workflow's state query, so the workflow is the only source of
// truth.
package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/batonhq/baton/claimclient"
	"github.com/batonhq/baton/policy"
	"github.com/batonhq/baton/store"
	"github.com/batonhq/baton/workflows"
)

// Server serves the API.
type Server struct {
	claims *claimclient.Client
	store  *store.Store // nil: no timeline
	log    *slog.Logger
}

// New builds the API over a claim client and the store (nil serves everything but
// the timeline).
func New(claims *claimclient.Client, st *store.Store, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{claims: claims, store: st, log: log}
}

// Handler routes the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /claims/{claim_id}/assignment-options/{stage}", s.assignmentOptions)
	mux.HandleFunc("GET /claims/{claim_id}", s.claimState)
	mux.HandleFunc("GET /claims/{claim_id}/timeline", s.timeline)
	mux.HandleFunc("GET /claims/{claim_id}/explain", s.explain)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// assignmentOptions answers the claim-assignment source's
// GET /claims/:claim_id/assignment-options/{capture|review|acknowledge}.
func (s *Server) assignmentOptions(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	stage, err := policy.ParseStage(r.PathValue("stage"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "unknown_stage", err.Error())
		return
	}
	if !stage.Assignable() {
		writeError(w, http.StatusBadRequest, "unknown_stage", "finalise is terminal and has no assignment options: want capture, review or acknowledge")
		return
	}
	state, ok := s.state(w, r, claimID)
	if !ok {
		return
	}
	opts, err := claimclient.OptionsFor(state, stage)
	if errors.Is(err, claimclient.ErrStageNotReached) {
		writeError(w, http.StatusConflict, "stage_not_reached", err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "unknown_stage", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, opts)
}

// timeline answers a claim's events, oldest first.
func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, "timeline_unavailable", "this server has no database configured (DATABASE_URL)")
		return
	}
	if _, ok := s.state(w, r, claimID); !ok {
		return
	}
	events, err := s.store.Timeline(r.Context(), claimID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read timeline", "claim_id", claimID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the timeline of claim "+claimID)
		return
	}
	if events == nil {
		events = []store.TimelineEvent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"claimId": claimID, "events": events})
}

// explain answers a claim's recorded decisions (optionally one stage's): the
// candidates, who was removed and why, the rules tried, the method and the pick.
func (s *Server) explain(w http.ResponseWriter, r *http.Request) {
	claimID := r.PathValue("claim_id")
	var stage policy.Stage
	if q := r.URL.Query().Get("stage"); q != "" {
		var err error
		if stage, err = policy.ParseStage(q); err != nil {
			writeError(w, http.StatusBadRequest, "unknown_stage", err.Error())
			return
		}
	}
	if s.store == nil {
		writeError(w, http.StatusServiceUnavailable, "explain_unavailable", "this server has no database configured (DATABASE_URL)")
		return
	}
	if _, ok := s.state(w, r, claimID); !ok {
		return
	}
	all, err := s.store.DecisionsByClaim(r.Context(), claimID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "read decisions", "claim_id", claimID, "error", err)
		writeError(w, http.StatusInternalServerError, "database_error", "could not read the decisions of claim "+claimID)
		return
	}
	out := []policy.Decision{}
	for _, d := range all {
		if stage == "" || d.Stage == stage {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"claimId": claimID, "decisions": out})
}

func (s *Server) claimState(w http.ResponseWriter, r *http.Request) {
	if state, ok := s.state(w, r, r.PathValue("claim_id")); ok {
		writeJSON(w, http.StatusOK, state)
	}
}

func (s *Server) state(w http.ResponseWriter, r *http.Request, claimID string) (st workflows.ClaimState, ok bool) {
	if err := claimclient.ValidateClaimID(claimID); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_claim_id", err.Error())
		return st, false
	}
	st, err := s.claims.State(r.Context(), claimID)
	if errors.Is(err, claimclient.ErrClaimNotFound) {
		writeError(w, http.StatusNotFound, "claim_not_found", "claim "+claimID+" not found")
		return st, false
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "query claim state", "claim_id", claimID, "error", err)
		writeError(w, http.StatusBadGateway, "temporal_unavailable", "could not read claim "+claimID+" from Temporal")
		return st, false
	}
	return st, true
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	var b errorBody
	b.Error.Code, b.Error.Message = code, msg
	writeJSON(w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
