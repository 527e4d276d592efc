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
//	probe load URL SECONDS     GET URL back to back (a new connection each time, as separate
//	                           clients would) for SECONDS; prints "requests=N failed=M" and
//	                           the first 100 failures with their times, fails if any request failed
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
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
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
		return fmt.Errorf("usage: probe lookup NAME | get URL [CAFILE] | request METHOD URL [BODY] | load URL SECONDS | writes URL SECONDS PREFIX | dial HOST:PORT | write FILE TEXT | serve")
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
		if len(args) != 3 {
			return fmt.Errorf("usage: probe load URL SECONDS")
		}
		seconds, err := time.ParseDuration(args[2] + "s")
		if err != nil {
			return fmt.Errorf("SECONDS %q: %v", args[2], err)
		}
		return load(args[1], seconds)
	case "writes":
		if len(args) != 4 && !(len(args) == 5 && args[4] == "until-eof") {
			return fmt.Errorf("usage: probe writes URL SECONDS PREFIX [until-eof]")
		}
		seconds, err := time.ParseDuration(args[2] + "s")
		if err != nil {
			return fmt.Errorf("SECONDS %q: %v", args[2], err)
		}
		stop := make(chan struct{})
		if len(args) == 5 {
			go func() {
				_, _ = io.Copy(io.Discard, os.Stdin)
				close(stop)
			}()
		}
		return writes(args[1], seconds, args[3], stop)
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
func load(url string, d time.Duration) error {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var requests, failed int
	var failures []string
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		requests++
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		if err != nil {
			failed++
			if len(failures) < 100 {
				failures = append(failures, fmt.Sprintf("%s: %v", time.Now().UTC().Format(time.RFC3339Nano), err))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("requests=%d failed=%d\n", requests, failed)
	for _, f := range failures {
		fmt.Println(f)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d requests failed", failed, requests)
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
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for deadline := time.Now().Add(d); time.Now().Before(deadline) && !stopped(); {
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
