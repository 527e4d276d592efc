package store

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Backoff bounds for WaitReady. Variables so tests can shorten them.
var (
	initialBackoff = 250 * time.Millisecond
	maxBackoff     = 5 * time.Second
	attemptTimeout = 3 * time.Second
)

// WaitReady pings until the database answers or maxWait elapses. In
// Kubernetes the database often becomes reachable after the app starts, and
// failing fast would only trade this loop for CrashLoopBackOff delays.
func WaitReady(ctx context.Context, ping func(context.Context) error, log *slog.Logger, maxWait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()

	backoff := initialBackoff
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, attemptTimeout)
		err := ping(actx)
		acancel()
		if err == nil {
			log.Info("database reachable", "attempt", attempt)
			return nil
		}
		log.Warn("database not reachable yet", "attempt", attempt, "retry_in", backoff.String(), "error", err.Error())

		select {
		case <-ctx.Done():
			return fmt.Errorf("database not reachable after %d attempts: %w (last error: %v)", attempt, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}
