// Package server is the HTTP API in front of the task store.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/acme/todo/internal/store"
)

// Store is what the handlers need; *store.Store satisfies it.
type Store interface {
	List(ctx context.Context) ([]store.Task, error)
	Add(ctx context.Context, name string) (store.Task, error)
	Delete(ctx context.Context, id int64) error
	Ping(ctx context.Context) error
}

// Server routes requests. It starts "not ready" so the process can answer
// liveness probes while it is still waiting for the database and migrating.
type Server struct {
	store    Store
	log      *slog.Logger
	ready    atomic.Bool
	draining atomic.Bool
	handler  http.Handler
}

// New builds the handler tree.
func New(st Store, log *slog.Logger) *Server {
	s := &Server{store: st, log: log}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /app.js", s.appJS)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /tasks", s.requireReady(s.listTasks))
	mux.Handle("PUT /tasks", s.requireReady(s.createTask))
	mux.Handle("DELETE /tasks/{id}", s.requireReady(s.deleteTask))

	s.handler = s.logRequests(mux)
	return s
}

// SetReady marks startup (database reachable, schema migrated) as done.
func (s *Server) SetReady() { s.ready.Store(true) }

// SetDraining marks the process as shutting down: /readyz answers 503 so
// Kubernetes takes the pod out of Service endpoints, while /healthz and the
// API keep serving the requests that are still routed here meanwhile.
func (s *Server) SetDraining() { s.draining.Store(true) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// requireReady keeps the API from touching a schema that may not exist yet.
func (s *Server) requireReady(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeError(w, http.StatusServiceUnavailable, "service is starting")
			return
		}
		h(w, r)
	})
}
