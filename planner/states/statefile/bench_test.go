package statefile

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// state100k returns 100,000 hardware instances with 15 attributes each, like the local
// backend's benchmarks.
func state100k() *states.State {
	s := states.NewState()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		rack := fmt.Sprintf("rack.r[%d]", i/32)
		s.Put(&states.Instance{
			Address: fmt.Sprintf("hardware.node[%d]", i), Kind: "hardware", Provider: "sim",
			ID: fmt.Sprintf("hw-%06d", i),
			Attrs: []byte(fmt.Sprintf(`{"cooling":"liquid","facility":"dc1","gpu_count":8,"gpu_memory_gb":80,"gpu_model":"H100-SXM5","hostname":"node-%06d","max_power_kw":10.2,"nic_count":8,"nic_speed_gbps":400,"os_image":"ubuntu-22.04@sha256:3f5ad1e0c2b4","rack":"%s","rack_unit":%d,"serial":"SN%08d","status":"active","tenant":"team-a"}`,
				i, rack, i%32, i)),
			AttrsHash: fmt.Sprintf("%032x", i*7919), ConfigHash: fmt.Sprintf("%032x", i*104729),
			Dependencies: []string{rack}, CreatedAt: now, UpdatedAt: now.Add(time.Duration(i) * time.Millisecond),
		})
	}
	return s
}

// BenchmarkWrite100k encodes 100,000 instances (no disk).
func BenchmarkWrite100k(b *testing.B) {
	s := state100k()
	for b.Loop() {
		if err := Write(io.Discard, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse100k decodes 100,000 instances (no disk).
func BenchmarkParse100k(b *testing.B) {
	data, err := Marshal(state100k())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
