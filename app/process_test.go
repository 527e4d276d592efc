package main

// These tests run the real binary as a child process, the way Kubernetes
// does, to cover what unit tests cannot: env handling end to end, signal
// handling, graceful draining and durability across restarts.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// TestMain removes the shared build directory; linking the binary once per
// package instead of once per test saves several seconds each.
func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// buildBinary compiles the service exactly as the Dockerfile does.
func buildBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "todo-bin-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "todo")
		cmd := exec.Command("go", "build", "-trimpath", "-o", build.bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type app struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	url  string
	done chan struct{}
	err  error // valid after done is closed
}

// startApp runs bin with the test's environment plus extra KEY=VALUE pairs.
func startApp(t *testing.T, bin string, extra ...string) *app {
	t.Helper()
	port := freePort(t)
	a := &app{out: &syncBuffer{}, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{})}
	a.cmd = exec.Command(bin)
	a.cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "LOG_LEVEL=debug")
	a.cmd.Env = append(a.cmd.Env, extra...)
	a.cmd.Stdout = a.out
	a.cmd.Stderr = a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.err = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() {
		select {
		case <-a.done:
		default:
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		if t.Failed() {
			t.Logf("app output:\n%s", a.out)
		}
	})
	return a
}

// withSchema points the child at a private schema via libpq's PGOPTIONS.
func withSchema(schema string) string {
	return "PGOPTIONS=-c search_path=" + schema
}

func (a *app) get(path string) (int, string, error) {
	resp, err := http.Get(a.url + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (a *app) waitStatus(t *testing.T, path string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, err := a.get(path)
		if err == nil && code == want {
			return
		}
		select {
		case <-a.done:
			t.Fatalf("app exited (%v) while waiting for %s to return %d", a.err, path, want)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never returned %d (last: %d %q %v)", path, want, code, body, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// exitCode waits for the process and returns its exit status.
func (a *app) exitCode(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(within):
		t.Fatalf("app did not exit within %s", within)
	}
	var ee *exec.ExitError
	if errors.As(a.err, &ee) {
		return ee.ExitCode()
	}
	if a.err != nil {
		t.Fatalf("wait: %v", a.err)
	}
	return 0
}

func (a *app) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := a.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func put(t *testing.T, url, name string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", url+"/tasks", strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT /tasks = %d", resp.StatusCode)
	}
}
