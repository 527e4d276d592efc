package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/todo/internal/server"
	"github.com/acme/todo/internal/store"
)

func TestListEmptyIsJSONArray(t *testing.T) {
	ts, _ := newAPI(t)
	resp, body := do(t, "GET", ts.URL+"/tasks", "")
	wantStatus(t, resp, body, http.StatusOK)
	if got := strings.TrimSpace(string(body)); got != "[]" {
		t.Fatalf("body = %q, want []", got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

func TestCreateListDelete(t *testing.T) {
	ts, st := newAPI(t)

	resp, body := do(t, "PUT", ts.URL+"/tasks", `{"name":"  write tests  "}`)
	wantStatus(t, resp, body, http.StatusCreated)
	first := decode[store.Task](t, body)
	if first.Name != "write tests" || first.ID <= 0 {
		t.Fatalf("created %+v, want trimmed name and positive id", first)
	}
	if loc := resp.Header.Get("Location"); loc != fmt.Sprintf("/tasks/%d", first.ID) {
		t.Fatalf("Location = %q", loc)
	}

	resp, body = do(t, "PUT", ts.URL+"/tasks", `{"name":"second"}`)
	wantStatus(t, resp, body, http.StatusCreated)
	second := decode[store.Task](t, body)

	resp, body = do(t, "GET", ts.URL+"/tasks", "")
	wantStatus(t, resp, body, http.StatusOK)
	got := decode[[]store.Task](t, body)
	if fmt.Sprint(got) != fmt.Sprint([]store.Task{first, second}) {
		t.Fatalf("GET /tasks = %v", got)
	}

	resp, body = do(t, "DELETE", fmt.Sprintf("%s/tasks/%d", ts.URL, first.ID), "")
	wantStatus(t, resp, body, http.StatusNoContent)
	if len(body) != 0 {
		t.Fatalf("204 with body %q", body)
	}

	// The HTTP layer must really have changed the database.
	rows, err := st.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rows) != fmt.Sprint([]store.Task{second}) {
		t.Fatalf("store after delete = %v, want only %v", rows, second)
	}

	resp, body = do(t, "DELETE", fmt.Sprintf("%s/tasks/%d", ts.URL, first.ID), "")
	wantStatus(t, resp, body, http.StatusNotFound)
	if e := decode[map[string]string](t, body); e["error"] == "" {
		t.Fatalf("404 body %s lacks error", body)
	}
}

func TestCreateValidation(t *testing.T) {
	ts, st := newAPI(t)
	longest := strings.Repeat("é", server.MaxNameLength)
	cases := []struct {
		name, body string
		want       int
	}{
		{"empty name", `{"name":""}`, http.StatusBadRequest},
		{"blank name", `{"name":"   "}`, http.StatusBadRequest},
		{"missing name", `{}`, http.StatusBadRequest},
		{"too long", `{"name":"` + longest + `x"}`, http.StatusBadRequest},
		{"control char", `{"name":"a\u0000b"}`, http.StatusBadRequest},
		{"not json", `name=x`, http.StatusBadRequest},
		{"wrong type", `{"name":42}`, http.StatusBadRequest},
		{"array", `["x"]`, http.StatusBadRequest},
		{"trailing data", `{"name":"a"}{"name":"b"}`, http.StatusBadRequest},
		{"no body", ``, http.StatusBadRequest},
		{"huge body", `{"name":"` + strings.Repeat("a", 64<<10) + `"}`, http.StatusRequestEntityTooLarge},
		{"max length ok", `{"name":"` + longest + `"}`, http.StatusCreated},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := do(t, "PUT", ts.URL+"/tasks", c.body)
			wantStatus(t, resp, body, c.want)
			if c.want >= 400 {
				if e := decode[map[string]string](t, body); e["error"] == "" {
					t.Fatalf("error response %s lacks error message", body)
				}
			}
		})
	}
	rows, err := st.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Name != longest {
		t.Fatalf("rejected requests leaked into the store: %v", rows)
	}
}

func TestDeleteBadID(t *testing.T) {
	ts, _ := newAPI(t)
	for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
		resp, body := do(t, "DELETE", ts.URL+"/tasks/"+id, "")
		wantStatus(t, resp, body, http.StatusBadRequest)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	ts, _ := newAPI(t)
	resp, body := do(t, "POST", ts.URL+"/tasks", `{"name":"x"}`)
	wantStatus(t, resp, body, http.StatusMethodNotAllowed)
}

func TestAPIUnavailableUntilReady(t *testing.T) {
	srv := server.New(nil, quietLogger()) // never touched: not ready yet
	for _, path := range []string{"/tasks", "/readyz"} {
		rec := serve(srv, "GET", path)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("GET %s before ready = %d, want 503", path, rec.Code)
		}
	}
	if rec := serve(srv, "GET", "/healthz"); rec.Code != http.StatusOK {
		t.Fatalf("GET /healthz before ready = %d, want 200", rec.Code)
	}
}
