// Package pgtest finds the PostgreSQL that scripts/pg-up.sh starts for the tests and
// benchmarks that need a real database.
package pgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvFile is where scripts/pg-up.sh writes the test database's address
// (FABRICA_PG_ENV_FILE overrides it).
func EnvFile() string {
	if f := os.Getenv("FABRICA_PG_ENV_FILE"); f != "" {
		return f
	}
	return "/run/fabrica-pg.env"
}

// Env reads the env file (KEY='value' lines); FABRICA_PG_TEST_CONN and FABRICA_PG_UP set
// in the environment win. It fails when no connection string is known.
func Env() (map[string]string, error) {
	env := map[string]string{}
	f, err := os.Open(EnvFile())
	if err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if ok && !strings.HasPrefix(k, "#") {
				env[k] = strings.Trim(v, `'"`)
			}
		}
		f.Close()
	}
	for _, k := range []string{"FABRICA_PG_TEST_CONN", "FABRICA_PG_UP"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	if env["FABRICA_PG_TEST_CONN"] == "" {
		if err == nil {
			err = fmt.Errorf("%s has no FABRICA_PG_TEST_CONN", EnvFile())
		}
		return nil, err
	}
	return env, nil
}

// Conn returns the test database's connection string once it accepts a connection.
// Without one the test is skipped, or fails when FABRICA_REQUIRE_PG=1 (as in CI),
// saying to run scripts/pg-up.sh.
func Conn(tb testing.TB) string {
	tb.Helper()
	env, err := Env()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var c *pgx.Conn
		if c, err = pgx.Connect(ctx, env["FABRICA_PG_TEST_CONN"]); err == nil {
			c.Close(ctx)
			return env["FABRICA_PG_TEST_CONN"]
		}
	}
	msg := fmt.Sprintf("no test PostgreSQL (%v): run scripts/pg-up.sh (as root) to start one", err)
	if os.Getenv("FABRICA_REQUIRE_PG") == "1" {
		tb.Fatal(msg)
	}
	tb.Skip(msg + "; FABRICA_REQUIRE_PG=1 makes this a failure")
	return ""
}
