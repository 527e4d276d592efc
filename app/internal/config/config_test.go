package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// clearEnv blanks every variable Load reads so the host environment (which
// under test.sh points at a real database) cannot leak into expectations.
func clearEnv(t *testing.T) {
	for _, k := range []string{"PORT", "SHUTDOWN_TIMEOUT", "SHUTDOWN_DELAY", "LOG_LEVEL", "DATABASE_URL",
		"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE"} {
		t.Setenv(k, "")
	}
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.ShutdownTimeout != 10*time.Second || cfg.ShutdownDelay != 5*time.Second || cfg.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults = %+v", cfg)
	}
	if cfg.DB == nil {
		t.Fatal("DB config is nil")
	}
}

func TestValidValues(t *testing.T) {
	clearEnv(t)
	t.Setenv("PORT", "9090")
	t.Setenv("SHUTDOWN_TIMEOUT", "1m30s")
	t.Setenv("SHUTDOWN_DELAY", "2500ms")
	t.Setenv("LOG_LEVEL", "WARN")
	t.Setenv("PGHOST", "db.example")
	t.Setenv("PGPORT", "6543")
	t.Setenv("PGDATABASE", "todos")
	t.Setenv("PGUSER", "alice")
	t.Setenv("PGPASSWORD", "s3cret")
	t.Setenv("PGSSLMODE", "disable")
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 9090 || cfg.ShutdownTimeout != 90*time.Second || cfg.ShutdownDelay != 2500*time.Millisecond || cfg.LogLevel != slog.LevelWarn {
		t.Fatalf("got %+v", cfg)
	}
	c := cfg.DB.ConnConfig
	if c.Host != "db.example" || c.Port != 6543 || c.Database != "todos" || c.User != "alice" || c.Password != "s3cret" {
		t.Fatalf("PG* not applied: host=%s port=%d db=%s user=%s", c.Host, c.Port, c.Database, c.User)
	}
	if c.TLSConfig != nil {
		t.Fatal("PGSSLMODE=disable must disable TLS")
	}
}

func TestLogLevels(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		clearEnv(t)
		t.Setenv("LOG_LEVEL", in)
		cfg, err := Load()
		if err != nil || cfg.LogLevel != want {
			t.Fatalf("LOG_LEVEL=%s -> %v, %v; want %v", in, cfg.LogLevel, err, want)
		}
	}
}

func TestShutdownDelay(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "0s": 0, "1ms": time.Millisecond, "5s": 5 * time.Second, "1m": time.Minute,
	} {
		clearEnv(t)
		t.Setenv("SHUTDOWN_DELAY", in)
		cfg, err := Load()
		if err != nil || cfg.ShutdownDelay != want {
			t.Fatalf("SHUTDOWN_DELAY=%s -> %v, %v; want %v", in, cfg.ShutdownDelay, err, want)
		}
	}
}

func TestDatabaseURLTakesPrecedence(t *testing.T) {
	clearEnv(t)
	t.Setenv("PGHOST", "from-env")
	t.Setenv("PGDATABASE", "envdb")
	t.Setenv("DATABASE_URL", "postgres://u:p@from-url:5555/urldb?sslmode=disable")
	cfg, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.DB.ConnConfig
	if c.Host != "from-url" || c.Port != 5555 || c.Database != "urldb" || c.User != "u" {
		t.Fatalf("DATABASE_URL not preferred: host=%s port=%d db=%s user=%s", c.Host, c.Port, c.Database, c.User)
	}
}

func TestInvalidValues(t *testing.T) {
	cases := []struct{ name, value string }{
		{"PORT", "abc"},
		{"PORT", "0"},
		{"PORT", "70000"},
		{"PORT", "-1"},
		{"SHUTDOWN_TIMEOUT", "10"},
		{"SHUTDOWN_TIMEOUT", "-5s"},
		{"SHUTDOWN_TIMEOUT", "soon"},
		{"SHUTDOWN_DELAY", "5"},
		{"SHUTDOWN_DELAY", "-1s"},
		{"SHUTDOWN_DELAY", "later"},
		{"LOG_LEVEL", "verbose"},
		{"PGPORT", "postgres"},
		{"PGPORT", "99999"},
		{"PGSSLMODE", "on"},
	}
	for _, c := range cases {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(c.name, c.value)
			_, err := Load()
			if err == nil {
				t.Fatalf("Load accepted %s=%q", c.name, c.value)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.name) || !strings.Contains(msg, `"`+c.value+`"`) {
				t.Fatalf("error %q must name %s and its value", msg, c.name)
			}
		})
	}
}

func TestInvalidDatabaseURLDoesNotLeakPassword(t *testing.T) {
	clearEnv(t)
	t.Setenv("DATABASE_URL", "postgres://u:hunter2@host:notaport/db")
	_, err := Load()
	if err == nil {
		t.Fatal("Load accepted a malformed DATABASE_URL")
	}
	if !strings.Contains(err.Error(), "DATABASE_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %q must name DATABASE_URL without the password", err)
	}
}
