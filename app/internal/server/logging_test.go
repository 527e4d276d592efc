package server_test

import (
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/acme/todo/internal/server"
)

type syncBuilder struct {
	mu sync.Mutex
	sb strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sb.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sb.String()
}

func slogJSON(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func TestAccessLog(t *testing.T) {
	var sb syncBuilder
	srv := server.New(nil, slogJSON(&sb))
	serve(srv, "GET", "/tasks")
	line := sb.String()
	for _, want := range []string{`"msg":"request"`, `"method":"GET"`, `"path":"/tasks"`, `"status":503`, `"duration_ms":`} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %s lacks %s", line, want)
		}
	}
}

// Probes hit every Pod every few seconds; at info level they would drown
// the real traffic.
func TestProbesLogAtDebugOnly(t *testing.T) {
	var sb syncBuilder
	srv := server.New(nil, slog.New(slog.NewJSONHandler(&sb, &slog.HandlerOptions{Level: slog.LevelInfo})))
	serve(srv, "GET", "/healthz")
	serve(srv, "GET", "/readyz")
	if out := sb.String(); out != "" {
		t.Fatalf("probe requests logged at info: %s", out)
	}
	serve(srv, "GET", "/tasks")
	if !strings.Contains(sb.String(), `"path":"/tasks"`) {
		t.Fatal("API request not logged at info")
	}
}
