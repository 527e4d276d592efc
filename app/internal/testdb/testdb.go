// Package testdb gives each test its own schema in the real PostgreSQL that
// test.sh starts, so packages can run their tests in parallel without
// seeing each other's rows.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SkipIfNoDB skips tests that need PostgreSQL when none is configured.
// test.sh always configures one, so this only affects ad-hoc `go test` runs.
func SkipIfNoDB(t testing.TB) {
	t.Helper()
	if os.Getenv("PGHOST") == "" && os.Getenv("DATABASE_URL") == "" {
		t.Skip("PGHOST (or DATABASE_URL) is not set: skipping PostgreSQL test; run ./test.sh to start a real database")
	}
}

// Schema creates an empty schema, drops it when the test ends, and returns
// its name.
func Schema(t testing.TB) string {
	t.Helper()
	SkipIfNoDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	defer conn.Close(ctx)

	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
		if err != nil {
			t.Errorf("cleanup connect: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+name+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Pool returns a pool whose connections use a fresh schema only.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	schema := Schema(t)
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatalf("parse database config: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("create pool: %v", err)
	}
	// Registered after Schema's cleanup, so it runs first (LIFO): connections
	// are gone before the schema is dropped.
	t.Cleanup(pool.Close)
	return pool
}
