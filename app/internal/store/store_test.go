package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/todo/internal/store"
	"github.com/acme/todo/internal/testdb"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	s, _ := newStoreAndPool(t)
	return s
}

func newStoreAndPool(t *testing.T) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := testdb.Pool(t)
	s := store.New(pool)
	if err := s.Migrate(ctx(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s, pool
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestListEmptyIsNonNil(t *testing.T) {
	s := newStore(t)
	tasks, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if tasks == nil || len(tasks) != 0 {
		t.Fatalf("List on empty table = %#v, want empty non-nil slice", tasks)
	}
}

func TestAddListDeleteInOrder(t *testing.T) {
	s := newStore(t)
	names := []string{"buy milk", "walk dog", "ship release"}
	var added []store.Task
	for _, n := range names {
		task, err := s.Add(ctx(t), n)
		if err != nil {
			t.Fatalf("Add(%q): %v", n, err)
		}
		if task.Name != n || task.ID <= 0 {
			t.Fatalf("Add(%q) = %+v", n, task)
		}
		if len(added) > 0 && task.ID <= added[len(added)-1].ID {
			t.Fatalf("ids not increasing: %d after %d", task.ID, added[len(added)-1].ID)
		}
		added = append(added, task)
	}

	got, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(added) {
		t.Fatalf("List = %v, want %v (insertion order)", got, added)
	}

	if err := s.Delete(ctx(t), added[1].ID); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got, err = s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Task{added[0], added[2]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after delete List = %v, want %v", got, want)
	}
}

// An UPDATE writes a new row version at the end of the heap, so without an
// explicit ORDER BY the first task would come back last.
func TestListOrderIsByIDNotStorage(t *testing.T) {
	s, pool := newStoreAndPool(t)
	var ids []int64
	for _, n := range []string{"a", "b", "c"} {
		task, err := s.Add(ctx(t), n)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, task.ID)
	}
	if _, err := pool.Exec(ctx(t), `UPDATE tasks SET name = name WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	var heap []int64
	rows, _ := pool.Query(ctx(t), `SELECT id FROM tasks`)
	for rows.Next() {
		var id int64
		_ = rows.Scan(&id)
		heap = append(heap, id)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	t.Logf("unordered scan returns %v", heap)

	got, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != ids[0] || got[1].ID != ids[1] || got[2].ID != ids[2] {
		t.Fatalf("List = %v, want ids %v in order", got, ids)
	}
}

func TestDeleteMissing(t *testing.T) {
	s := newStore(t)
	task, err := s.Add(ctx(t), "once")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx(t), task.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx(t), task.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx(t), 987654321); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete(unknown) = %v, want ErrNotFound", err)
	}
}

func TestUnicodeRoundTrip(t *testing.T) {
	s := newStore(t)
	const name = "Grüße 👋 <b>&amp;</b> 'quoted'"
	if _, err := s.Add(ctx(t), name); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != name {
		t.Fatalf("List = %+v, want one task named %q", got, name)
	}
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	s := store.New(testdb.Pool(t))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s.Migrate(ctx(t)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	if _, err := s.Add(ctx(t), "x"); err != nil {
		t.Fatal(err)
	}
	// Re-running must keep existing rows.
	if err := s.Migrate(ctx(t)); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx(t))
	if err != nil || len(got) != 1 {
		t.Fatalf("after re-migrate List = %v, %v; want 1 task", got, err)
	}
}

func TestPing(t *testing.T) {
	s := store.New(testdb.Pool(t))
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
