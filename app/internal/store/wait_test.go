package store

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func shortBackoff(t *testing.T) {
	oi, om := initialBackoff, maxBackoff
	initialBackoff, maxBackoff = time.Millisecond, 5*time.Millisecond
	t.Cleanup(func() { initialBackoff, maxBackoff = oi, om })
}

func TestWaitReadyRetriesUntilSuccess(t *testing.T) {
	shortBackoff(t)
	calls := 0
	ping := func(context.Context) error {
		calls++
		if calls < 4 {
			return errors.New("connection refused")
		}
		return nil
	}
	if err := WaitReady(context.Background(), ping, quietLogger(), 5*time.Second); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	if calls != 4 {
		t.Fatalf("ping called %d times, want 4", calls)
	}
}

func TestWaitReadyGivesUp(t *testing.T) {
	shortBackoff(t)
	start := time.Now()
	err := WaitReady(context.Background(), func(context.Context) error { return errors.New("down") },
		quietLogger(), 100*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitReady = %v, want deadline exceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("WaitReady took %s, bound was 100ms", elapsed)
	}
}

func TestWaitReadyStopsOnCancel(t *testing.T) {
	shortBackoff(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := WaitReady(ctx, func(context.Context) error { return errors.New("down") }, quietLogger(), time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitReady = %v, want canceled", err)
	}
}
