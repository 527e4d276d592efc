package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acme/todo/internal/testdb"
)

func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	schema := testdb.Schema(t)
	a := startApp(t, buildBinary(t), withSchema(schema), "SHUTDOWN_DELAY=0")
	a.waitStatus(t, "/readyz", http.StatusOK)

	a.signal(t, syscall.SIGTERM)
	if code := a.exitCode(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM, want 0", code)
	}
	out := a.out.String()
	for _, want := range []string{`"msg":"schema migrated"`, `"msg":"signal received, shutting down"`, `"msg":"shutdown complete"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// Every log line must be JSON so log pipelines can parse it.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("non-JSON log line: %s", line)
		}
	}
}

func TestInFlightRequestCompletesDuringShutdown(t *testing.T) {
	schema := testdb.Schema(t)
	a := startApp(t, buildBinary(t), withSchema(schema), "SHUTDOWN_DELAY=0")
	a.waitStatus(t, "/readyz", http.StatusOK)

	// Send the request headers and half the body, then signal: the handler
	// is mid-request when shutdown starts.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", a.url+"/tasks", pr)
	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{code: resp.StatusCode, body: string(b)}
	}()
	if _, err := pw.Write([]byte(`{"name":"in fli`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	a.signal(t, syscall.SIGTERM)

	// New connections must be refused while the old request is draining.
	refused := false
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(a.url, "http://"), time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Fatal("listener still accepting after SIGTERM")
	}
	select {
	case <-a.done:
		t.Fatal("process exited before the in-flight request finished")
	default:
	}

	if _, err := pw.Write([]byte(`ght"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-res
	if r.err != nil || r.code != http.StatusCreated || !strings.Contains(r.body, `"in flight"`) {
		t.Fatalf("in-flight request = %d %q %v, want 201 with the task", r.code, r.body, r.err)
	}
	if code := a.exitCode(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
}

func TestShutdownDelayKeepsServingWhileReadinessFails(t *testing.T) {
	const delay = 2 * time.Second
	schema := testdb.Schema(t)
	a := startApp(t, buildBinary(t), withSchema(schema), "SHUTDOWN_DELAY="+delay.String(), "SHUTDOWN_TIMEOUT=10s")
	a.waitStatus(t, "/readyz", http.StatusOK)
	put(t, a.url, "routed late")

	start := time.Now()
	a.signal(t, syscall.SIGTERM)

	// Readiness must fail promptly so Kubernetes drops the endpoint...
	for {
		code, body, err := a.get("/readyz")
		if err != nil {
			t.Fatalf("/readyz during the drain delay: %v", err)
		}
		if code == http.StatusServiceUnavailable {
			if !strings.Contains(body, `"status":"unavailable"`) || !strings.Contains(body, `"error":"shutting down"`) {
				t.Fatalf("/readyz while draining = %q", body)
			}
			break
		}
		if time.Since(start) > delay/2 {
			t.Fatalf("/readyz still %d %q %s after SIGTERM", code, body, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ...while requests still routed here are served normally.
	if code, body, err := a.get("/tasks"); err != nil || code != http.StatusOK || !strings.Contains(body, `"routed late"`) {
		t.Fatalf("GET /tasks during the drain delay = %d %q %v, want 200 with the task", code, body, err)
	}
	if code, _, err := a.get("/healthz"); err != nil || code != http.StatusOK {
		t.Fatalf("/healthz during the drain delay = %d %v, want 200", code, err)
	}
	if elapsed := time.Since(start); elapsed >= delay {
		t.Fatalf("checks took %s, past SHUTDOWN_DELAY=%s; cannot tell draining from shutdown", elapsed, delay)
	}
	select {
	case <-a.done:
		t.Fatalf("process exited %s after SIGTERM, before SHUTDOWN_DELAY=%s", time.Since(start), delay)
	default:
	}

	if code := a.exitCode(t, delay+10*time.Second+5*time.Second); code != 0 {
		t.Fatalf("exit code %d after drain, want 0", code)
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Fatalf("exited %s after SIGTERM, before SHUTDOWN_DELAY=%s", elapsed, delay)
	}
	out := a.out.String()
	for _, want := range []string{`"msg":"signal received, shutting down"`, `"shutdown_delay":"2s"`, `"msg":"shutdown complete"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestShutdownTimeoutBoundsDraining(t *testing.T) {
	schema := testdb.Schema(t)
	a := startApp(t, buildBinary(t), withSchema(schema), "SHUTDOWN_TIMEOUT=500ms", "SHUTDOWN_DELAY=0")
	a.waitStatus(t, "/readyz", http.StatusOK)

	// A request whose body never completes would hold shutdown forever.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest("PUT", a.url+"/tasks", pr)
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write([]byte(`{"name":`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)

	start := time.Now()
	a.signal(t, syscall.SIGTERM)
	code := a.exitCode(t, 10*time.Second)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("shutdown took %s with SHUTDOWN_TIMEOUT=500ms", elapsed)
	}
	if code == 0 {
		t.Fatal("exit code 0 although requests were cut off; want non-zero")
	}
	if !strings.Contains(a.out.String(), "graceful shutdown did not finish") {
		t.Fatal("log does not explain the forced shutdown")
	}
}

func TestDataPersistsAcrossRestart(t *testing.T) {
	schema := testdb.Schema(t)
	bin := buildBinary(t)

	first := startApp(t, bin, withSchema(schema), "SHUTDOWN_DELAY=0")
	first.waitStatus(t, "/readyz", http.StatusOK)
	put(t, first.url, "survive restart")
	put(t, first.url, "me too")
	first.signal(t, syscall.SIGTERM)
	if code := first.exitCode(t, 15*time.Second); code != 0 {
		t.Fatalf("first run exit code %d", code)
	}

	second := startApp(t, bin, withSchema(schema), "SHUTDOWN_DELAY=0")
	second.waitStatus(t, "/readyz", http.StatusOK)
	code, body, err := second.get("/tasks")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /tasks = %d %v", code, err)
	}
	var tasks []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(body), &tasks); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].Name != "survive restart" || tasks[1].Name != "me too" {
		t.Fatalf("after restart tasks = %+v", tasks)
	}
	second.signal(t, syscall.SIGINT)
	if code := second.exitCode(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}
}

func TestLiveButNotReadyWhileDatabaseDown(t *testing.T) {
	testdb.SkipIfNoDB(t)
	// A long SHUTDOWN_DELAY proves that a signal during startup skips it:
	// the pod was never ready, so there are no endpoints to drain.
	a := startApp(t, buildBinary(t), "DATABASE_URL=", "PGHOST=127.0.0.1", fmt.Sprintf("PGPORT=%d", freePort(t)), "SHUTDOWN_DELAY=1m")
	a.waitStatus(t, "/healthz", http.StatusOK)
	if code, _, err := a.get("/readyz"); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d %v, want 503 while DB is down", code, err)
	}
	if code, _, err := a.get("/tasks"); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("/tasks = %d %v, want 503 while DB is down", code, err)
	}
	// Give it time to log a retry so we know it is retrying, not stuck.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(a.out.String(), "database not reachable yet") {
		if time.Now().After(deadline) {
			t.Fatal("no retry log line")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.signal(t, syscall.SIGTERM)
	if code := a.exitCode(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM during startup, want 0", code)
	}
	if strings.Contains(a.out.String(), "draining") {
		t.Fatal("signal during startup must skip the drain delay")
	}
}

func TestInvalidConfigExitsNonZero(t *testing.T) {
	bin := buildBinary(t)
	for _, kv := range []string{"PORT=abc", "SHUTDOWN_TIMEOUT=forever", "SHUTDOWN_DELAY=-1s", "SHUTDOWN_DELAY=soon", "LOG_LEVEL=loud", "PGSSLMODE=maybe"} {
		name, value, _ := strings.Cut(kv, "=")
		a := startApp(t, bin, kv)
		if code := a.exitCode(t, 10*time.Second); code == 0 {
			t.Fatalf("%s: exit code 0, want non-zero", kv)
		}
		out := a.out.String()
		if !strings.Contains(out, name) || !strings.Contains(out, value) {
			t.Fatalf("%s: output %q does not name the variable and value", kv, out)
		}
	}
}
