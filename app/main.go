// Command todo serves a small task list API backed by PostgreSQL.
//
// All configuration comes from the environment; see internal/config and
// README.md for the variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/todo/internal/config"
	"github.com/acme/todo/internal/server"
	"github.com/acme/todo/internal/store"
)

// startupTimeout bounds how long we wait for the database before giving up
// and letting Kubernetes restart the container.
const startupTimeout = 2 * time.Minute

func main() {
	if err := run(); err != nil {
		// The logger may not exist yet (bad LOG_LEVEL), so build a plain one.
		slog.New(slog.NewJSONHandler(os.Stdout, nil)).Error("fatal", "error", err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	ctx, stopSignals := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stopSignals()

	// The pool connects lazily, so this does not block on the database.
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg.DB)
	if err != nil {
		return fmt.Errorf("create database pool: %w", err)
	}
	defer pool.Close()
	log.Info("starting", "port", cfg.Port, "db_host", cfg.DB.ConnConfig.Host,
		"db_port", cfg.DB.ConnConfig.Port, "db_name", cfg.DB.ConnConfig.Database,
		"shutdown_timeout", cfg.ShutdownTimeout.String(), "shutdown_delay", cfg.ShutdownDelay.String())

	st := store.New(pool)
	srv := server.New(st, log)
	httpSrv := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	// Listen before waiting for the database so liveness probes pass while
	// the database is still coming up; readiness stays 503 until SetReady.
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpSrv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())

	if err := prepareDatabase(ctx, st, log); err != nil {
		if ctx.Err() != nil {
			log.Info("signal received during startup")
			return shutdown(httpSrv, pool, cfg.ShutdownTimeout, log)
		}
		_ = shutdown(httpSrv, pool, cfg.ShutdownTimeout, log)
		return err
	}
	srv.SetReady()
	log.Info("ready")

	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// A second signal now kills the process immediately, as operators expect.
	stopSignals()
	log.Info("signal received, shutting down", "shutdown_delay", cfg.ShutdownDelay.String())
	if err := drain(srv, serveErr, cfg.ShutdownDelay, log); err != nil {
		_ = shutdown(httpSrv, pool, cfg.ShutdownTimeout, log)
		return err
	}
	return shutdown(httpSrv, pool, cfg.ShutdownTimeout, log)
}

// drain fails readiness and keeps serving for delay. Kubernetes removes a
// terminating pod from Service endpoints asynchronously, so requests keep
// arriving for a while after SIGTERM; closing the listener at once would
// refuse them.
func drain(srv *server.Server, serveErr <-chan error, delay time.Duration, log *slog.Logger) error {
	srv.SetDraining()
	if delay <= 0 {
		return nil
	}
	log.Info("draining: readiness now fails, still serving until the delay ends", "shutdown_delay", delay.String())
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	case <-t.C:
	}
	log.Info("drain delay over, closing listener")
	return nil
}

func prepareDatabase(ctx context.Context, st *store.Store, log *slog.Logger) error {
	if err := store.WaitReady(ctx, st.Ping, log, startupTimeout); err != nil {
		return err
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		return err
	}
	log.Info("schema migrated")
	return nil
}

// shutdown stops accepting connections, waits for in-flight requests up to
// timeout, and only then closes the pool those requests may still be using.
func shutdown(httpSrv *http.Server, pool *pgxpool.Pool, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := httpSrv.Shutdown(ctx)
	pool.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("graceful shutdown did not finish within %s: %w", timeout, err)
	}
	log.Info("shutdown complete")
	return nil
}
