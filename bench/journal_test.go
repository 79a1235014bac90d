package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/internal/pgtest"
)

// BenchmarkApplyJournal measures what recording each finished resource costs during an
// apply through the real CLI at parallelism 10: the same apply (sim provider at latency
// L, 2,000 servers) with state on the local backend and on PostgreSQL, each followed by
// a destroy. overhead-% is how much longer the pg apply took than the local one, whose
// file journal costs a few microseconds per record. It needs the PostgreSQL of
// scripts/pg-up.sh (make bench starts it).
func BenchmarkApplyJournal(b *testing.B) {
	bin := fabricaBinary(b)
	conn := pgtest.Conn(b)
	const nodes, parallelism = 2000, 10
	for _, latency := range []time.Duration{0, 2 * time.Millisecond, 10 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%v", latency), func(b *testing.B) {
			src := fmt.Sprintf(`
provider "sim" {
  latency = "%s"
}
facility "f" {
  it_power_kw = 10000
  design_pue  = 1.2
}
hardware "n" {
  count       = %d
  facility    = facility.f
  device_type = "cpu-server"
  rack        = "r${count.index %% 400}"
}
`, latency, nodes)
			local, pg := b.TempDir(), b.TempDir()
			for _, dir := range []string{local, pg} {
				if err := os.WriteFile(filepath.Join(dir, "main.fab.hcl"), []byte(src), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			pgSettings := fmt.Sprintf("fabrica {\n  backend \"pg\" {\n    conn_str    = %q\n    schema_name = \"bench_journal\"\n  }\n}\n", conn)
			if err := os.WriteFile(filepath.Join(pg, "settings.fab.hcl"), []byte(pgSettings), 0o644); err != nil {
				b.Fatal(err)
			}
			// A state left by an interrupted run would turn the apply into a no-op.
			timed(b, bin, pg, 0, "destroy", "--auto-approve")
			var localSecs, pgSecs float64
			for range b.N {
				for _, dir := range []string{local, pg} {
					timed(b, bin, dir, 0, "apply", "--auto-approve", "--parallelism", fmt.Sprint(parallelism))
					secs := applySeconds(b, dir)
					timed(b, bin, dir, 0, "destroy", "--auto-approve")
					if dir == local {
						localSecs += secs
					} else {
						pgSecs += secs
					}
				}
			}
			b.ReportMetric(localSecs*1000/float64(b.N), "local-ms")
			b.ReportMetric(pgSecs*1000/float64(b.N), "pg-ms")
			b.ReportMetric(100*(pgSecs-localSecs)/localSecs, "overhead-%")
		})
	}
}

// applySeconds is the duration the last apply in dir reported.
func applySeconds(b *testing.B, dir string) float64 {
	b.Helper()
	out, _ := os.ReadFile(filepath.Join(dir, "out.log"))
	var secs float64
	if i := bytes.LastIndex(out, []byte("Apply complete after ")); i >= 0 {
		fmt.Sscanf(string(out[i+len("Apply complete after "):]), "%fs", &secs)
	}
	if secs == 0 {
		b.Fatalf("no apply duration in the output:\n%s", out)
	}
	return secs
}
