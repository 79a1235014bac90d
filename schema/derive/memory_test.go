package derive

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// llama70B is domain.md §2.4's worked example: 70B dense, h = 8192, L = 80,
// a = 64, s = 4096, b = 1.
func llama70B(zero int, recompute string) ModelSpec {
	return ModelSpec{ParametersB: 70, Layers: 80, Hidden: 8192, Heads: 64, SeqLen: 4096, MicroBatch: 1, ZeroStage: zero, Recompute: recompute}
}

// sbh is s·b·h of the worked example.
const sbh = 4096.0 * 1 * 8192

func TestMemoryPerGPU(t *testing.T) {
	tp8pp4dp16 := Layout{Tensor: 8, Pipeline: 4, Data: 16}
	noSP := llama70B(0, "")
	noSP.NoSequenceParallel = true
	hf := llama70B(0, "")
	hf.BytesPerParam = 18
	statesOnly := ModelSpec{ParametersB: 70, ZeroStage: 1}
	tests := []struct {
		name   string
		model  ModelSpec
		layout Layout
		states float64
		acts   float64
	}{
		// domain.md §2.4: 1,120 GB / 32 = 35 GB; selective activations
		// 34·s·b·h = 1.14 GB/layer, /8 × 80 ≈ 11.4 GB; total ≈ 46 GB.
		{"no ZeRO, selective", llama70B(0, RecomputeSelective), tp8pp4dp16, 35, 34 * sbh / 8 * 80 / 1e9},
		{"recompute defaults to selective", llama70B(0, ""), tp8pp4dp16, 35, 34 * sbh / 8 * 80 / 1e9},
		// domain.md §2.4: ZeRO-1 8.75 + 1.64 = 10.4 GB; total ≈ 22 GB.
		{"ZeRO-1", llama70B(1, ""), tp8pp4dp16, 8.75 + 1.640625, 34 * sbh / 8 * 80 / 1e9},
		{"ZeRO-2", llama70B(2, ""), tp8pp4dp16, 70e9*2/32/1e9 + 70e9*14/512/1e9, 34 * sbh / 8 * 80 / 1e9},
		{"ZeRO-3", llama70B(3, ""), tp8pp4dp16, 70e9 * 16 / 512 / 1e9, 34 * sbh / 8 * 80 / 1e9},
		// domain.md §2.4: without recompute the factor is 34 + 160 = 194, ≈5.7× more.
		{"no recompute", llama70B(0, RecomputeNone), tp8pp4dp16, 35, 194 * sbh / 8 * 80 / 1e9},
		{"full recompute", llama70B(0, RecomputeFull), tp8pp4dp16, 35, 2 * sbh / 8 * 80 / 1e9},
		{"no sequence parallel", noSP, tp8pp4dp16, 35, sbh * (10 + 24.0/8) * 80 / 1e9},
		{"no tensor parallel", llama70B(0, ""), Layout{Pipeline: 4, Data: 16}, 70e9 * 16 / 4 / 1e9, 34 * sbh * 80 / 1e9},
		// Context parallel halves the sequence and joins the ZeRO group.
		{"context parallel", llama70B(1, ""), Layout{Tensor: 8, Pipeline: 4, Data: 8, Context: 2}, 8.75 + 1.640625, 34 * sbh / 2 / 8 * 80 / 1e9},
		{"HF 18 bytes per param", hf, tp8pp4dp16, 70e9 * 18 / 32 / 1e9, 34 * sbh / 8 * 80 / 1e9},
		{"model size only", statesOnly, Layout{}, 70e9*4/1e9 + 70e9*12/1e9, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := MemoryEstimate{ModelStatesGB: tt.states, ActivationsGB: tt.acts, TotalGB: tt.states + tt.acts}
			if diff := cmp.Diff(want, MemoryPerGPU(tt.model, tt.layout), exact); diff != "" {
				t.Errorf("MemoryPerGPU mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMemoryPerGPU_domainFigures states domain.md §2.4's rounded results.
func TestMemoryPerGPU_domainFigures(t *testing.T) {
	layout := Layout{Tensor: 8, Pipeline: 4, Data: 16}
	got := []MemoryEstimate{MemoryPerGPU(llama70B(0, ""), layout), MemoryPerGPU(llama70B(1, ""), layout)}
	want := []MemoryEstimate{{35, 11.4, 46.4}, {10.4, 11.4, 21.8}}
	if diff := cmp.Diff(want, got, approx(5e-3)); diff != "" {
		t.Errorf("MemoryPerGPU mismatch (-want +got):\n%s", diff)
	}
}

func TestLayoutWorldSize(t *testing.T) {
	tests := []struct {
		l    Layout
		want int
	}{
		{Layout{}, 1},
		{Layout{Tensor: 8, Pipeline: 4, Data: 16}, 512},
		{Layout{Tensor: 8, Data: 4, Context: 2, Expert: 4}, 64},
	}
	for _, tt := range tests {
		if got := tt.l.WorldSize(); got != tt.want {
			t.Errorf("%+v.WorldSize() = %d, want %d", tt.l, got, tt.want)
		}
	}
}

// fieldOf keeps what a caller acts on: the attribute and the severity.
type fieldOf struct {
	Field   string
	Warning bool
}

func fields(issues []LayoutIssue) []fieldOf {
	var out []fieldOf
	for _, is := range issues {
		if is.Msg == "" {
			out = append(out, fieldOf{"<empty message>", is.Warning})
			continue
		}
		out = append(out, fieldOf{is.Field, is.Warning})
	}
	return out
}

func TestCheckLayout(t *testing.T) {
	tests := []struct {
		name                              string
		l                                 Layout
		worldSize, heads, layers, nvlinks int
		want                              []fieldOf
	}{
		{"worked example", Layout{Tensor: 8, Pipeline: 4, Data: 16}, 512, 64, 80, 8, nil},
		{"zeros are 1", Layout{}, 1, 64, 80, 8, nil},
		{"unknowns skip checks", Layout{Tensor: 16, Pipeline: 3}, 0, 0, 0, 0, nil},
		{"product", Layout{Tensor: 8, Pipeline: 4, Data: 8}, 512, 64, 80, 8, []fieldOf{{"parallelism", false}}},
		{"tensor past NVLink", Layout{Tensor: 16, Pipeline: 2, Data: 16}, 512, 64, 80, 8, []fieldOf{{"tensor", false}}},
		{"tensor within NVL72", Layout{Tensor: 16, Pipeline: 2, Data: 16}, 512, 64, 80, 72, nil},
		{"heads", Layout{Tensor: 8}, 8, 60, 80, 8, []fieldOf{{"tensor", false}}},
		{"uneven pipeline", Layout{Pipeline: 3}, 3, 64, 80, 8, []fieldOf{{"pipeline", true}}},
		{"pipeline past layers", Layout{Pipeline: 100}, 100, 64, 80, 8, []fieldOf{{"pipeline", false}}},
		{"expert", Layout{Data: 16, Expert: 3}, 16, 64, 80, 8, []fieldOf{{"expert", false}}},
		{"negative", Layout{Tensor: -1, Data: -2}, 512, 64, 80, 8, []fieldOf{{"tensor", false}, {"data", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fields(CheckLayout(tt.l, tt.worldSize, tt.heads, tt.layers, tt.nvlinks))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckLayout mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckLayout_messages(t *testing.T) {
	got := CheckLayout(Layout{Tensor: 8, Pipeline: 4, Data: 8}, 512, 64, 80, 8)
	want := []LayoutIssue{{Field: "parallelism", Msg: "tensor × pipeline × data × context = 8 × 4 × 8 × 1 = 256, but the job runs 512 processes (nodes × processes_per_node). Make the product equal 512, for example data = 16."}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckLayout mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckModel(t *testing.T) {
	bad := ModelSpec{ParametersB: 0, Layers: -1, Hidden: 8192, Heads: 60, BytesPerParam: -2, ZeroStage: 4, Recompute: "partial"}
	tests := []struct {
		name  string
		model ModelSpec
		want  []fieldOf
	}{
		{"worked example", llama70B(1, ""), nil},
		{"parameters only", ModelSpec{ParametersB: 7}, nil},
		{"everything wrong", bad, []fieldOf{{"parameters_b", false}, {"layers", false}, {"heads", false}, {"bytes_per_param", false}, {"zero_stage", false}, {"recompute", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fields(CheckModel(tt.model))); diff != "" {
				t.Errorf("CheckModel mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
