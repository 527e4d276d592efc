// Package config turns the process environment into a validated Config.
//
// The variable names are a contract with the Kubernetes manifests that deploy
// this service, so they must not be renamed casually.
package config

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults applied when a variable is unset or empty.
const (
	DefaultPort            = 8080
	DefaultShutdownTimeout = 10 * time.Second
	DefaultShutdownDelay   = 5 * time.Second
	DefaultLogLevel        = slog.LevelInfo
)

// Config is everything the service needs to start.
type Config struct {
	Port            int
	ShutdownTimeout time.Duration
	// ShutdownDelay is how long the process keeps serving, with readiness
	// failing, after the first SIGTERM/SIGINT and before it stops accepting
	// connections, so Kubernetes can remove it from Service endpoints first.
	ShutdownDelay time.Duration
	LogLevel      slog.Level
	// DB is built by pgx from DATABASE_URL or the libpq PG* variables.
	DB *pgxpool.Config
}

// Load reads the environment. Every error names the offending variable and
// its value so a misconfigured Pod is diagnosable from its log alone.
func Load() (Config, error) {
	cfg := Config{
		Port:            DefaultPort,
		ShutdownTimeout: DefaultShutdownTimeout,
		ShutdownDelay:   DefaultShutdownDelay,
		LogLevel:        DefaultLogLevel,
	}

	if v := os.Getenv("PORT"); v != "" {
		p, err := parsePort(v)
		if err != nil {
			return Config{}, invalid("PORT", v, err)
		}
		cfg.Port = p
	}

	if v := os.Getenv("SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, invalid("SHUTDOWN_TIMEOUT", v, fmt.Errorf("must be a Go duration such as 10s or 1m30s"))
		}
		if d <= 0 {
			return Config{}, invalid("SHUTDOWN_TIMEOUT", v, fmt.Errorf("must be greater than zero"))
		}
		cfg.ShutdownTimeout = d
	}

	if v := os.Getenv("SHUTDOWN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, invalid("SHUTDOWN_DELAY", v, fmt.Errorf("must be a Go duration such as 5s or 0"))
		}
		if d < 0 {
			return Config{}, invalid("SHUTDOWN_DELAY", v, fmt.Errorf("must not be negative"))
		}
		cfg.ShutdownDelay = d
	}

	if v := os.Getenv("LOG_LEVEL"); v != "" {
		l, err := parseLevel(v)
		if err != nil {
			return Config{}, invalid("LOG_LEVEL", v, err)
		}
		cfg.LogLevel = l
	}

	db, err := loadDB()
	if err != nil {
		return Config{}, err
	}
	cfg.DB = db
	return cfg, nil
}

func invalid(name, value string, err error) error {
	return fmt.Errorf("invalid %s=%q: %w", name, value, err)
}

func parsePort(v string) (int, error) {
	p, err := strconv.Atoi(v)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("must be an integer between 1 and 65535")
	}
	return p, nil
}

func parseLevel(v string) (slog.Level, error) {
	switch strings.ToLower(v) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("must be one of debug, info, warn, error")
}
