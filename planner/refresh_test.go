package planner

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/google/go-cmp/cmp"
)

// Provider blocks that refer to nothing are configured before evaluating, with what
// evaluating gives them; a block that refers to a variable or a local value, or that
// has an error, waits for the evaluation.
func TestStaticProviderConfigs(t *testing.T) {
	for _, c := range []struct {
		name, src string
		static    bool
	}{
		{"no provider block", labSource, true},
		{"literal settings", labSource + `provider "sim" {
  latency = "5ms"
  seed    = 1 + 2
  tags    = upper("x")
}`, true},
		{"an alias", labSource + `provider "sim" {
  alias = "slow"
  latency = "50ms"
}
provider "sim" {}`, true},
		{"a variable", labSource + `variable "latency" { default = "5ms" }
provider "sim" { latency = var.latency }`, false},
		{"a local value", labSource + `locals { latency = "5ms" }
provider "sim" { latency = local.latency }`, false},
		{"an error", labSource + `provider "sim" { latency = upper(1, 2) }`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, diags := schema.LoadSources(map[string][]byte{"main.fab.hcl": []byte(c.src)})
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			got, ok := StaticProviderConfigs(cfg)
			if ok != c.static {
				t.Fatalf("static: %v, want %v", ok, c.static)
			}
			if !ok {
				return
			}
			want, diags := evalSource(t, c.src).ProviderConfigs()
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			if diff := cmp.Diff(rawStrings(want), rawStrings(got)); diff != "" {
				t.Fatalf("configurations (-evaluated +static):\n%s", diff)
			}
		})
	}
}

func rawStrings(m map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

// A plan handed a refresh of its state started before it uses that refresh (the
// provider reads once) and finds what its own refresh finds; a refresh of another
// state is not used.
func TestPlan_refreshStartedBefore(t *testing.T) {
	h := newHarness(t, labSource)
	p, _ := h.plan(PlanOptions{})
	if _, _, msg := h.apply(p); msg != "" {
		t.Fatal(msg)
	}
	h.fake.Set("hardware.n[1]", "rack", "moved")
	ev := evalSource(t, h.src)
	ctx := context.Background()
	prior, err := h.backend.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, diags := Plan(ctx, ev, prior, h.providers(), PlanOptions{Refresh: true})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	if a := actions(own)["hardware.n[1]"]; a != "update" {
		t.Fatalf("the drifted server's action: %s, want update", a)
	}
	for _, c := range []struct {
		name  string
		other bool
		reads int
	}{{"the same state", false, 1}, {"another state", true, 2}} {
		t.Run(c.name, func(t *testing.T) {
			reads := h.fake.Calls["Read"]
			provs := h.providers()
			started := prior
			if c.other {
				if started, err = h.backend.Load(ctx); err != nil { // equal, but not the state planned
					t.Fatal(err)
				}
			}
			r := StartRefresh(ctx, started, provs)
			got, diags := Plan(ctx, ev, prior, provs, PlanOptions{Refresh: true, Refreshed: r})
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			r.wait()
			if n := h.fake.Calls["Read"] - reads; n != c.reads {
				t.Fatalf("%d reads, want %d", n, c.reads)
			}
			if diff := cmp.Diff(actions(own), actions(got)); diff != "" {
				t.Fatalf("actions (-own refresh +started before):\n%s", diff)
			}
		})
	}
}
