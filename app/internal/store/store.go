// Package store keeps tasks in PostgreSQL.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when a task id does not exist.
var ErrNotFound = errors.New("task not found")

// Task is the API and storage representation of a todo item.
type Task struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Store is safe for concurrent use; all state lives in the pool.
type Store struct {
	pool *pgxpool.Pool
}

// New wraps a pool. The pool is owned by the caller, who closes it.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// List returns all tasks oldest first. pgx.CollectRows never returns a nil
// slice, so an empty list encodes as [] rather than null.
// A read is retried after a connection failure (see retryable).
func (s *Store) List(ctx context.Context) ([]Task, error) {
	var tasks []Task
	err := withRetry(ctx, true, func() error {
		rows, err := s.pool.Query(ctx, `SELECT id, name FROM tasks ORDER BY id`)
		if err != nil {
			return err
		}
		tasks, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Task])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	return tasks, nil
}

// Add inserts a task and returns it with its database-assigned id. It is retried only when
// the INSERT cannot have run (see retryable), so a retry never adds the task twice.
func (s *Store) Add(ctx context.Context, name string) (Task, error) {
	t := Task{Name: name}
	err := withRetry(ctx, false, func() error {
		return s.pool.QueryRow(ctx, `INSERT INTO tasks (name) VALUES ($1) RETURNING id`, name).Scan(&t.ID)
	})
	if err != nil {
		return Task{}, fmt.Errorf("add task: %w", err)
	}
	return t, nil
}

// Delete removes a task, reporting ErrNotFound if there was none. Retried like Add: a DELETE
// run twice would answer 404 for a task it did delete.
func (s *Store) Delete(ctx context.Context, id int64) error {
	var tag pgconn.CommandTag
	err := withRetry(ctx, false, func() (err error) {
		tag, err = s.pool.Exec(ctx, `DELETE FROM tasks WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete task %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// Ping checks that a connection to the database can be used.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}
