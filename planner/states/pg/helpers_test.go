package pg

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/internal/pgtest"
	"github.com/fabrica-iac/fabrica/planner/states"
	"github.com/jackc/pgx/v5"
)

var ctx = context.Background()

// testConn returns the test database's connection string (see pgtest.Conn).
func testConn(tb testing.TB) string { return pgtest.Conn(tb) }

// newSchema returns a new schema name for one test, dropped when it ends.
func newSchema(tb testing.TB) string {
	tb.Helper()
	conn := testConn(tb)
	var r [6]byte
	rand.Read(r[:])
	schema := "t_" + hex.EncodeToString(r[:])
	tb.Cleanup(func() {
		c, err := pgx.Connect(ctx, conn)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		c.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	})
	return schema
}

// open returns a Backend on schema and workspace, closed when the test ends.
func open(tb testing.TB, schema, ws string, mods ...func(*Config)) *Backend {
	tb.Helper()
	cfg := Config{ConnString: testConn(tb), Schema: schema, Workspace: ws}
	for _, m := range mods {
		m(&cfg)
	}
	b, err := New(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// lockedBackend returns a locked backend on a new schema, with s persisted.
func lockedBackend(tb testing.TB, s *states.State, mods ...func(*Config)) (*Backend, string) {
	tb.Helper()
	b := open(tb, newSchema(tb), "default", mods...)
	id, err := b.Lock(ctx, states.NewLockInfo("test"))
	if err != nil {
		tb.Fatal(err)
	}
	if s != nil {
		if err := b.Persist(ctx, s); err != nil {
			tb.Fatal(err)
		}
	}
	return b, id
}

// reopen returns another Backend on b's schema and workspace, as another fabrica.
func reopen(tb testing.TB, b *Backend, mods ...func(*Config)) *Backend {
	tb.Helper()
	return open(tb, b.cfg.Schema, b.ws, append([]func(*Config){func(c *Config) { c.Crypt = b.cfg.Crypt }}, mods...)...)
}

func loadFresh(tb testing.TB, b *Backend) *states.State {
	tb.Helper()
	s, err := reopen(tb, b).Load(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newInstance(addr string) *states.Instance {
	kind, _, _ := strings.Cut(addr, ".")
	return &states.Instance{Address: addr, Kind: kind, Provider: "sim", ID: "id-" + addr,
		Attrs: json.RawMessage(`{"name":"` + addr + `"}`), CreatedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
}

// hardwareInstance returns a hardware instance shaped like the sim provider's, with 15
// attributes (as the local backend's benchmarks use).
func hardwareInstance(i int, now time.Time) *states.Instance {
	rack := fmt.Sprintf("rack.r[%d]", i/32)
	attrs := fmt.Sprintf(`{"cooling":"liquid","facility":"dc1","gpu_count":8,"gpu_memory_gb":80,"gpu_model":"H100-SXM5","hostname":"node-%06d","max_power_kw":10.2,"nic_count":8,"nic_speed_gbps":400,"os_image":"ubuntu-22.04@sha256:3f5ad1e0c2b4","rack":"%s","rack_unit":%d,"serial":"SN%08d","status":"active","tenant":"team-a"}`,
		i, rack, i%32, i)
	return &states.Instance{
		Address:      fmt.Sprintf("hardware.node[%d]", i),
		Kind:         "hardware",
		Provider:     "sim",
		ID:           fmt.Sprintf("hw-%06d", i),
		Attrs:        []byte(attrs),
		AttrsHash:    fmt.Sprintf("%032x", i*7919),
		ConfigHash:   fmt.Sprintf("%032x", i*104729),
		Dependencies: []string{rack},
		CreatedAt:    now,
		UpdatedAt:    now.Add(time.Duration(i) * time.Millisecond),
	}
}

func bigState(n int) *states.State {
	s := states.NewState()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		s.Put(hardwareInstance(i, now))
	}
	return s
}

// sql runs a statement on its own connection, as an outsider would.
func sql(tb testing.TB, query string, args ...any) {
	tb.Helper()
	c, err := pgx.Connect(ctx, testConn(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// count returns the number of rows a query counts.
func count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	c, err := pgx.Connect(ctx, testConn(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}
