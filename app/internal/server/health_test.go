package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/todo/internal/server"
	"github.com/acme/todo/internal/store"
	"github.com/acme/todo/internal/testdb"
)

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestHealthz(t *testing.T) {
	ts, _ := newAPI(t)
	resp, body := do(t, "GET", ts.URL+"/healthz", "")
	wantStatus(t, resp, body, http.StatusOK)
}

func TestReadyzWithDatabase(t *testing.T) {
	ts, _ := newAPI(t)
	resp, body := do(t, "GET", ts.URL+"/readyz", "")
	wantStatus(t, resp, body, http.StatusOK)
	if s := decode[map[string]string](t, body)["status"]; s != "ready" {
		t.Fatalf("status %q", s)
	}
}

// closedPort returns a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestReadyzWithoutDatabase(t *testing.T) {
	testdb.SkipIfNoDB(t) // keeps credentials realistic; the port is what's wrong
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Host = "127.0.0.1"
	cfg.ConnConfig.Port = uint16(closedPort(t))
	cfg.ConnConfig.Fallbacks = nil
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	srv := server.New(store.New(pool), quietLogger())
	srv.SetReady()
	start := time.Now()
	rec := serve(srv, "GET", "/readyz")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with unreachable DB = %d, want 503; body %s", rec.Code, rec.Body)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("/readyz took %s; must answer within the probe timeout", elapsed)
	}
	if rec := serve(srv, "GET", "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("/healthz must not depend on the DB, got %d", rec.Code)
	}
}

func TestIndexPage(t *testing.T) {
	ts, _ := newAPI(t)
	resp, body := do(t, "GET", ts.URL+"/", "")
	wantStatus(t, resp, body, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type = %q", ct)
	}
	if !strings.Contains(string(body), `<script src="/app.js">`) {
		t.Fatalf("index does not load app.js:\n%s", body)
	}

	resp, body = do(t, "GET", ts.URL+"/app.js", "")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(string(body), `"/tasks"`) {
		t.Fatal("app.js does not call the API")
	}

	resp, body = do(t, "GET", ts.URL+"/nope", "")
	wantStatus(t, resp, body, http.StatusNotFound)
}

func TestReadyzFailsWhileDrainingButAPIServes(t *testing.T) {
	ts, _, srv := newAPIServer(t)

	resp, body := do(t, "GET", ts.URL+"/readyz", "")
	wantStatus(t, resp, body, http.StatusOK)

	srv.SetDraining()
	resp, body = do(t, "GET", ts.URL+"/readyz", "")
	wantStatus(t, resp, body, http.StatusServiceUnavailable)
	got := decode[map[string]string](t, body)
	if got["status"] != "unavailable" || got["error"] != "shutting down" {
		t.Fatalf("/readyz while draining = %s", body)
	}

	// Requests still routed here before the endpoint removal propagates must
	// be served normally.
	resp, body = do(t, "GET", ts.URL+"/healthz", "")
	wantStatus(t, resp, body, http.StatusOK)
	resp, body = do(t, "PUT", ts.URL+"/tasks", `{"name":"while draining"}`)
	wantStatus(t, resp, body, http.StatusCreated)
	resp, body = do(t, "GET", ts.URL+"/tasks", "")
	wantStatus(t, resp, body, http.StatusOK)
	if !strings.Contains(string(body), `"while draining"`) {
		t.Fatalf("GET /tasks while draining = %s", body)
	}
}
