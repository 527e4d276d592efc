package server

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout keeps a hung database from stalling the kubelet's probe past
// its own timeout.
const readyTimeout = 2 * time.Second

type statusBody struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// healthz is liveness: deliberately independent of the database so a
// database outage does not make Kubernetes restart healthy pods.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}

// readyz is readiness: traffic is only useful when the database answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable", Error: "shutting down"})
		return
	}
	if !s.ready.Load() {
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable", Error: "starting"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.WarnContext(r.Context(), "readiness check failed", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable", Error: "database unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ready"})
}
