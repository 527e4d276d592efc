package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var sslModes = map[string]bool{
	"disable": true, "allow": true, "prefer": true,
	"require": true, "verify-ca": true, "verify-full": true,
}

// loadDB lets pgx interpret the libpq variables itself so behaviour matches
// psql exactly; PGPORT and PGSSLMODE are checked first only because pgx's
// own errors do not say which variable was wrong.
func loadDB() (*pgxpool.Config, error) {
	if v := os.Getenv("PGPORT"); v != "" {
		// libpq allows one port per host in a comma-separated list.
		for _, p := range strings.Split(v, ",") {
			if _, err := parsePort(p); err != nil {
				return nil, invalid("PGPORT", v, err)
			}
		}
	}
	if v := os.Getenv("PGSSLMODE"); v != "" && !sslModes[v] {
		return nil, invalid("PGSSLMODE", v,
			fmt.Errorf("must be one of disable, allow, prefer, require, verify-ca, verify-full"))
	}

	// An empty string makes pgx fall back to PGHOST, PGUSER, ... entirely;
	// a DATABASE_URL overrides whatever it specifies.
	dsn := os.Getenv("DATABASE_URL")
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		src := "PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD/PGSSLMODE"
		if dsn != "" {
			src = "DATABASE_URL"
			// pgx only redacts passwords on a best-effort basis; never echo
			// the URL at all.
			var pe *pgconn.ParseConfigError
			if errors.As(err, &pe) {
				pe.ConnString = "DATABASE_URL"
			}
		}
		return nil, fmt.Errorf("invalid database settings in %s: %w", src, err)
	}
	return cfg, nil
}
