package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryDelays are the pauses before the second and third attempt: a failover moves the
// read-write Service to the new primary within seconds, and a request must not wait longer.
var retryDelays = []time.Duration{100 * time.Millisecond, 400 * time.Millisecond}

// readOnlyTransaction is SQLSTATE 25006: a write reached a server that is (now) a standby.
// The statement was refused before it ran, so nothing was written.
const readOnlyTransaction = "25006"

// retryable says whether a failed statement may run again without a chance of running twice.
//   - A statement the server never received (pgconn.SafeToRetry: the connection broke before
//     anything was sent, as a pooled connection to a lost primary does) can always go again.
//   - A write refused by a standby never ran.
//   - A read (idempotent) may also go again after any other connection failure.
//
// A write whose connection broke after it was sent is never retried: it may have committed
// (with synchronous replication, a commit can be durable locally while the client sees only
// the broken connection), and a second INSERT would duplicate it. The client gets the error.
func retryable(err error, idempotent bool) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pgconn.SafeToRetry(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == readOnlyTransaction
	}
	return idempotent
}

// withRetry runs op up to len(retryDelays)+1 times while its error is retryable.
func withRetry(ctx context.Context, idempotent bool, op func() error) error {
	err := op()
	for _, delay := range retryDelays {
		if !retryable(err, idempotent) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		err = op()
	}
	return err
}
