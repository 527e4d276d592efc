package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrationLockID is an arbitrary constant shared by every replica.
const migrationLockID int64 = 0x746f646f // "todo"

const schema = `CREATE TABLE IF NOT EXISTS tasks (
	id         bigserial   PRIMARY KEY,
	name       text        NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
)`

// Migrate creates the schema if it is missing. Replicas starting together
// would race inside CREATE TABLE IF NOT EXISTS (it is not concurrency-safe
// in PostgreSQL), so the statement runs under a transaction-scoped advisory
// lock.
func (s *Store) Migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, schema)
		return err
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
