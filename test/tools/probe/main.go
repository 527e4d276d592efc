// Command probe is the client the cluster tests (test/e2e/pods.ts and the other
// suites on the cluster program) run in pods, built with ko into a scratch-based
// image: the test images have no shell or curl.
//
//	probe lookup NAME          resolve NAME (Go resolver: /etc/resolv.conf, i.e. cluster DNS)
//	probe get URL [CAFILE]     HTTP(S) GET; prints the status line and body, fails unless 2xx
//	                           (CAFILE: PEM roots for https, e.g. the service account's ca.crt;
//	                           a bearer token is sent when the service account token is mounted)
//	probe request METHOD URL [BODY]
//	                           one HTTP request (BODY as JSON); prints the status code on the
//	                           first line and the body after it, fails unless 2xx
//	probe load URL SECONDS [until-eof]
//	                           GET URL back to back (a new connection each time, as separate
//	                           clients would) for SECONDS; prints "requests=N failed=M" and
//	                           the first 100 failures with their times, fails if any request failed
//	                           (until-eof: also stops as soon as stdin ends, as writes does)
//	probe flood URL SECONDS WORKERS [until-eof]
//	                           GET URL (http only) on WORKERS concurrent connections, pipelined
//	                           10 at a time, for SECONDS: enough requests to a cheap endpoint to
//	                           keep the server's CPU busy for little of the client's (an
//	                           autoscaling drill); every connection is replaced after 100
//	                           requests, so the Service spreads them anew over its endpoints, new
//	                           ones included. Prints "requests=N failed=M" and the first 100
//	                           failures like load
//	probe writes URL SECONDS PREFIX
//	                           PUT URL {"name":"PREFIX-N"} one after another for SECONDS (a new
//	                           connection each time); prints "acked N NAME TIME" for every 201,
//	                           "failed NAME TIME: ERROR" for the rest (a failed write is never
//	                           resent, so the names acknowledged are exactly what the service
//	                           promised to keep), then "writes=N acked=N failed=N"
//	probe writes URL SECONDS PREFIX until-eof
//	                           the same, but also stops (and prints its summary) as soon as its
//	                           stdin ends: `kubectl exec -i` and closing kubectl's stdin ends the
//	                           writes once a drill is over, where SECONDS is only an upper bound
//	probe dial HOST:PORT       open a TCP connection within 3 s (NetworkPolicy checks)
//	probe write FILE TEXT      write TEXT to FILE, read it back, print uid/gid and the file mode
//	probe serve                serve HTTP on $PORT (default 8080): "probe <hostname>" on every
//	                           path, until SIGTERM (a long-running pod to `kubectl exec` into)
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: probe lookup NAME | get URL [CAFILE] | request METHOD URL [BODY] | load URL SECONDS [until-eof] | flood URL SECONDS WORKERS [until-eof] | writes URL SECONDS PREFIX [until-eof] | dial HOST:PORT | write FILE TEXT | serve")
	}
	switch args[0] {
	case "lookup":
		if len(args) != 2 {
			return fmt.Errorf("usage: probe lookup NAME")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupHost(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Printf("%s %s\n", args[1], strings.Join(addrs, " "))
	case "get":
		if len(args) < 2 || len(args) > 3 {
			return fmt.Errorf("usage: probe get URL [CAFILE]")
		}
		return get(args[1], args[2:])
	case "write":
		if len(args) != 3 {
			return fmt.Errorf("usage: probe write FILE TEXT")
		}
		if err := os.WriteFile(args[1], []byte(args[2]), 0o640); err != nil {
			return err
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return err
		}
		st, err := os.Stat(args[1])
		if err != nil {
			return err
		}
		sys := st.Sys().(*syscall.Stat_t)
		fmt.Printf("uid=%d gid=%d groups=%v wrote %q to %s (owner %d:%d, mode %v)\n",
			os.Getuid(), os.Getgid(), groups(), string(b), args[1], sys.Uid, sys.Gid, st.Mode())
	case "request":
		if len(args) < 3 || len(args) > 4 {
			return fmt.Errorf("usage: probe request METHOD URL [BODY]")
		}
		return request(args[1], args[2], args[3:])
	case "load":
		if len(args) != 3 && !(len(args) == 4 && args[3] == "until-eof") {
			return fmt.Errorf("usage: probe load URL SECONDS [until-eof]")
		}
		seconds, err := time.ParseDuration(args[2] + "s")
		if err != nil {
			return fmt.Errorf("SECONDS %q: %v", args[2], err)
		}
		return load(args[1], seconds, stopSignal(len(args) == 4))
	case "flood":
		if len(args) != 4 && !(len(args) == 5 && args[4] == "until-eof") {
			return fmt.Errorf("usage: probe flood URL SECONDS WORKERS [until-eof]")
		}
		seconds, err := time.ParseDuration(args[2] + "s")
		if err != nil {
			return fmt.Errorf("SECONDS %q: %v", args[2], err)
		}
		workers, err := strconv.Atoi(args[3])
		if err != nil || workers < 1 {
			return fmt.Errorf("WORKERS %q: not a positive number", args[3])
		}
		return flood(args[1], seconds, workers, stopSignal(len(args) == 5))
	case "writes":
		if len(args) != 4 && !(len(args) == 5 && args[4] == "until-eof") {
			return fmt.Errorf("usage: probe writes URL SECONDS PREFIX [until-eof]")
		}
		seconds, err := time.ParseDuration(args[2] + "s")
		if err != nil {
			return fmt.Errorf("SECONDS %q: %v", args[2], err)
		}
		return writes(args[1], seconds, args[3], stopSignal(len(args) == 5))
	case "dial":
		if len(args) != 2 {
			return fmt.Errorf("usage: probe dial HOST:PORT")
		}
		conn, err := net.DialTimeout("tcp", args[1], 3*time.Second)
		if err != nil {
			return err
		}
		fmt.Printf("connected to %s from %s\n", conn.RemoteAddr(), conn.LocalAddr())
		return conn.Close()
	case "serve":
		return serve()
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

// stopSignal is closed when stdin ends, if untilEOF: `kubectl exec -i` and closing kubectl's
// stdin ends a load or writes once a drill is over, where SECONDS is only an upper bound.
// Without untilEOF it is never closed.
func stopSignal(untilEOF bool) <-chan struct{} {
	stop := make(chan struct{})
	if untilEOF {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(stop)
		}()
	}
	return stop
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func groups() []int {
	g, _ := os.Getgroups()
	return g
}

func get(url string, ca []string) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(ca) == 1 {
		pem, err := os.ReadFile(ca[0])
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificates in %s", ca[0])
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if strings.HasPrefix(url, "https://") {
		if tok, err := os.ReadFile(tokenFile); err == nil {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Printf("%s %s\n%s\n", url, resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

func request(method, url string, body []string) error {
	var reader io.Reader
	if len(body) == 1 {
		reader = strings.NewReader(body[0])
	}
	req, err := http.NewRequest(method, url, reader)
	if err != nil {
		return err
	}
	if reader != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("%d\n%s\n", resp.StatusCode, strings.TrimSpace(string(b)))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s answered %s", method, url, resp.Status)
	}
	return nil
}

// load sends GETs one after another for d. Keep-alives are off: each request opens its own
// connection through the Service, so every request is routed anew, as separate clients' are.
// It sends until d has passed or stop is closed.
func load(url string, d time.Duration, stop <-chan struct{}) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var tally tally
	for deadline := time.Now().Add(d); time.Now().Before(deadline) && !stopped(stop); {
		tally.add(getOnce(client, url))
		time.Sleep(20 * time.Millisecond)
	}
	return tally.report()
}

// flood keeps workers connections busy until d has passed or stop is closed. Each writes its
// requests floodBatch at a time in one write (HTTP/1.1 pipelining; the server answers them in
// order) and then reads the answers: the client spends little CPU per request, so the CPU the flood
// costs is mostly the server's, which is the point. Each connection carries floodPerConnection
// requests only, so the Service's routing, which is per connection, keeps spreading the load over
// every endpoint, the ones added meanwhile too. A request whose answer does not come (refused,
// reset, timed out) counts as failed.
func flood(rawURL string, d time.Duration, workers int, stop <-chan struct{}) error {
	const floodBatch, floodPerConnection = 10, 100
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("flood needs an http:// URL, got %q", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	batch := []byte(strings.Repeat(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: probe-flood\r\n\r\n", u.RequestURI(), u.Host), floodBatch))
	deadline := time.Now().Add(d)
	going := func() bool { return time.Now().Before(deadline) && !stopped(stop) }
	results := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for going() {
				if err := floodConnection(addr, batch, floodBatch, floodPerConnection/floodBatch, going, results); err != nil {
					// A refused or reset connection fails at once: no spinning on it.
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	var tally tally
	for err := range results {
		tally.add(err)
	}
	return tally.report()
}

// floodConnection sends up to batches batches of n requests on one new connection, one result
// per request to results; the connection's error, if it failed.
func floodConnection(addr string, batch []byte, n, batches int, going func() bool, results chan<- error) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		results <- err
		return err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	for b := 0; b < batches && going(); b++ {
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write(batch); err != nil {
			for i := 0; i < n; i++ {
				results <- err
			}
			return err
		}
		for i := 0; i < n; i++ {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				for ; i < n; i++ {
					results <- err
				}
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode/100 != 2 {
				err = fmt.Errorf("status %s", resp.Status)
			}
			results <- err
		}
	}
	return nil
}

// getOnce GETs url and reads the whole answer; an error unless 2xx.
func getOnce(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// tally counts requests and keeps the first 100 failures with their times.
type tally struct {
	requests, failed int
	failures         []string
}

func (t *tally) add(err error) {
	t.requests++
	if err == nil {
		return
	}
	t.failed++
	if len(t.failures) < 100 {
		t.failures = append(t.failures, fmt.Sprintf("%s: %v", time.Now().UTC().Format(time.RFC3339Nano), err))
	}
}

// report prints "requests=N failed=M" and the failures kept; an error if any request failed.
func (t *tally) report() error {
	fmt.Printf("requests=%d failed=%d\n", t.requests, t.failed)
	for _, f := range t.failures {
		fmt.Println(f)
	}
	if t.failed > 0 {
		return fmt.Errorf("%d of %d requests failed", t.failed, t.requests)
	}
	return nil
}

// writes creates tasks one after another for d and reports each one the service acknowledged
// (201 with its id) and each one it did not. The drills compare the acknowledged names with
// what the database holds afterwards.
// writes sends until d has passed or stop is closed.
func writes(url string, d time.Duration, prefix string, stop <-chan struct{}) error {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var sent, acked int
	for deadline := time.Now().Add(d); time.Now().Before(deadline) && !stopped(stop); {
		sent++
		name := fmt.Sprintf("%s-%d", prefix, sent)
		req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		var body []byte
		if err == nil {
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				err = fmt.Errorf("status %s: %s", resp.Status, strings.TrimSpace(string(body)))
			}
		}
		now := time.Now().UTC().Format(time.RFC3339Nano)
		if err != nil {
			fmt.Printf("failed %s %s: %v\n", name, now, err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		acked++
		fmt.Printf("acked %s %s %s\n", name, now, strings.TrimSpace(string(body)))
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("writes=%d acked=%d failed=%d\n", sent, acked, sent-acked)
	return nil
}

func serve() error {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	host, _ := os.Hostname()
	srv := &http.Server{
		Addr:              ":" + port,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "probe %s\n", host)
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	errs := make(chan error, 1)
	go func() { errs <- srv.ListenAndServe() }()
	fmt.Printf("serving on :%s\n", port)
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
