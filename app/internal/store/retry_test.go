package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// unsentError stands for pgconn's own errors that implement SafeToRetry (a write that failed
// before any byte went out, a connection that was already closed), which it keeps unexported.
type unsentError struct{}

func (unsentError) Error() string     { return "write failed before anything was sent" }
func (unsentError) SafeToRetry() bool { return true }

func TestRetryable(t *testing.T) {
	unsent := fmt.Errorf("add task: %w", unsentError{})
	sentThenBroken := fmt.Errorf("read: %w", io.ErrUnexpectedEOF)
	cases := []struct {
		name       string
		err        error
		idempotent bool
		want       bool
	}{
		{"nil", nil, true, false},
		{"canceled", context.Canceled, true, false},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true, false},
		{"nothing sent (pgconn.SafeToRetry)", unsent, false, true},
		{"write refused by a standby (25006)", &pgconn.PgError{Code: "25006"}, false, true},
		{"unique violation: the statement ran", &pgconn.PgError{Code: "23505"}, false, false},
		{"admin shutdown answered to a read", &pgconn.PgError{Code: "57P01"}, true, false},
		{"connection broken after a write was sent", sentThenBroken, false, false},
		{"connection broken after a read was sent", sentThenBroken, true, true},
		{"network error on a write", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, false, false},
	}
	for _, c := range cases {
		if got := retryable(c.err, c.idempotent); got != c.want {
			t.Errorf("%s: retryable(%v, idempotent=%v) = %v, want %v", c.name, c.err, c.idempotent, got, c.want)
		}
	}
}

func TestWithRetryStopsAtTheFirstSuccessAndGivesUpAfterThreeAttempts(t *testing.T) {
	calls := 0
	err := withRetry(context.Background(), false, func() error {
		calls++
		if calls < 2 {
			return &pgconn.PgError{Code: "25006"}
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("withRetry = %v after %d calls, want success after 2", err, calls)
	}
	calls = 0
	err = withRetry(context.Background(), false, func() error { calls++; return &pgconn.PgError{Code: "25006"} })
	if err == nil || calls != 3 {
		t.Fatalf("withRetry = %v after %d calls, want the error after 3", err, calls)
	}
	calls = 0
	err = withRetry(context.Background(), false, func() error { calls++; return &pgconn.PgError{Code: "23505"} })
	if err == nil || calls != 1 {
		t.Fatalf("a statement that ran was retried: %d calls", calls)
	}
}
