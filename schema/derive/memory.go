package derive

import "fmt"

// Recompute values for ModelSpec.Recompute.
const (
	RecomputeSelective = "selective"
	RecomputeFull      = "full"
	RecomputeNone      = "none"
)

// DefaultBytesPerParam is the model-state size of mixed-precision Adam
// training: 2 (bf16 weights) + 2 (grads) + 12 (fp32 master, momentum,
// variance) [S24]. Proposal per domain.md §2.4; HF counts 18, fp32
// gradient accumulation ≈20 [S25, S25b].
const DefaultBytesPerParam = 16

// ModelSpec describes a dense transformer for the memory estimate. Zero
// values take the defaults given per field.
type ModelSpec struct {
	ParametersB   float64 // parameters, in billions
	Layers        int
	Hidden        int
	Heads         int
	SeqLen        int
	MicroBatch    int     // 1 when 0
	BytesPerParam float64 // model-state bytes per parameter (DefaultBytesPerParam when 0)
	ZeroStage     int     // 0–3; Megatron's distributed optimizer is stage 1
	Recompute     string  // "selective" (default), "full", "none"
	// NoSequenceParallel turns sequence parallelism off. It is on by
	// default whenever Tensor > 1, as Megatron recommends; the zero value
	// then matches the usual setup.
	NoSequenceParallel bool
}

// Layout is a parallelism layout. Zero fields mean 1.
type Layout struct{ Tensor, Pipeline, Data, Context, Expert int }

// normalized returns l with zero fields set to 1.
func (l Layout) normalized() Layout {
	one := func(v int) int {
		if v == 0 {
			return 1
		}
		return v
	}
	return Layout{one(l.Tensor), one(l.Pipeline), one(l.Data), one(l.Context), one(l.Expert)}
}

// WorldSize returns Tensor × Pipeline × Data × Context, the GPUs (ranks) the
// layout occupies. Expert parallelism nests inside Data, so it does not
// multiply.
func (l Layout) WorldSize() int {
	n := l.normalized()
	return n.Tensor * n.Pipeline * n.Data * n.Context
}

// MemoryEstimate is the estimated memory per GPU in GB (10⁹ bytes), before
// runtime overheads (CUDA context, NCCL buffers, fragmentation: add
// 10–20 % as a heuristic).
type MemoryEstimate struct{ ModelStatesGB, ActivationsGB, TotalGB float64 }

// MemoryPerGPU estimates the memory one GPU needs for model states and
// activations (domain.md §2.4). See modelStatesBytes and activationBytes for
// the formulas. Out-of-range inputs are clamped rather than rejected;
// CheckModel and CheckLayout report them.
func MemoryPerGPU(m ModelSpec, l Layout) MemoryEstimate {
	l = l.normalized()
	states := modelStatesBytes(m, l) / 1e9
	acts := activationBytes(m, l) / 1e9
	return MemoryEstimate{ModelStatesGB: states, ActivationsGB: acts, TotalGB: states + acts}
}

// modelStatesBytes splits the bytes per parameter into 2 for weights, 2 for
// gradients and the rest for the optimizer, and shards them over
// M = Tensor × Pipeline and the ZeRO group D = Data × Context (Megatron's
// distributed optimizer shards over data- and context-parallel ranks):
//
//	stage 0: P·B/M
//	stage 1: P·4/M + P·(B−4)/(M·D)   optimizer states sharded
//	stage 2: P·2/M + P·(B−2)/(M·D)   gradients sharded too
//	stage 3: P·B/(M·D)               weights sharded too (FSDP)
func modelStatesBytes(m ModelSpec, l Layout) float64 {
	p := m.ParametersB * 1e9
	b := m.BytesPerParam
	if b == 0 {
		b = DefaultBytesPerParam
	}
	weights := min(2, b)
	grads := min(2, b-weights)
	opt := b - weights - grads
	mp := float64(l.Tensor * l.Pipeline)
	dp := float64(l.Data * l.Context)
	switch {
	case m.ZeroStage <= 0:
		return p * b / mp
	case m.ZeroStage == 1:
		return p*(weights+grads)/mp + p*opt/(mp*dp)
	case m.ZeroStage == 2:
		return p*weights/mp + p*(grads+opt)/(mp*dp)
	default:
		return p * b / (mp * dp)
	}
}

// activationBytes follows Korthikanti et al. [S27]. Per layer, with
// sequence s (divided by Context), micro-batch b, hidden h, heads a and
// tensor parallelism t:
//
//	none:      s·b·h·(34 + 5·a·s/h)/t      without SP: s·b·h·(10 + (24 + 5·a·s/h)/t)
//	selective: 34·s·b·h/t                  without SP: s·b·h·(10 + 24/t)
//	full:      2·s·b·h/t (layer input)     without SP: 2·s·b·h
//
// Under 1F1B the first pipeline stage holds about L layers' worth whatever
// the pipeline depth, so the total is per-layer × L. Embeddings, logits and
// the loss are left out. Without layers, hidden or seq_len it returns 0.
func activationBytes(m ModelSpec, l Layout) float64 {
	if m.Layers <= 0 || m.Hidden <= 0 || m.SeqLen <= 0 {
		return 0
	}
	s := float64(m.SeqLen) / float64(l.Context)
	b := float64(max(m.MicroBatch, 1))
	h := float64(m.Hidden)
	t := float64(l.Tensor)
	sp := l.Tensor > 1 && !m.NoSequenceParallel
	sbh := s * b * h
	var perLayer float64
	switch m.Recompute {
	case RecomputeNone:
		attn := 5 * float64(max(m.Heads, 0)) * s / h
		if sp {
			perLayer = sbh * (34 + attn) / t
		} else {
			perLayer = sbh * (10 + (24+attn)/t)
		}
	case RecomputeFull:
		perLayer = 2 * sbh
		if sp {
			perLayer /= t
		}
	default:
		if sp {
			perLayer = 34 * sbh / t
		} else {
			perLayer = sbh * (10 + 24/t)
		}
	}
	return perLayer * float64(m.Layers)
}

// LayoutIssue is a problem found in a model or parallelism layout. Field
// names the attribute at fault as in DESIGN.md §3 ("tensor", "pipeline",
// "parallelism" for the block as a whole, "zero_stage", …); Warning is true
// for problems that do not stop the job; Msg is written for the user.
type LayoutIssue struct {
	Field   string
	Warning bool
	Msg     string
}

func issue(field string, warning bool, format string, args ...any) LayoutIssue {
	return LayoutIssue{Field: field, Warning: warning, Msg: fmt.Sprintf(format, args...)}
}

// CheckLayout checks a parallelism layout against the job (domain.md §2.4,
// §3): the product Tensor × Pipeline × Data × Context equals worldSize
// (nodes × processes per node); Tensor ≤ nvlinkDomain; heads % Tensor = 0;
// Pipeline ≤ layers; Data % Expert = 0 (expert parallelism nests in data);
// and, as a warning, layers % Pipeline = 0. A zero worldSize, heads, layers
// or nvlinkDomain skips the checks that need it. The result is nil when all
// is well.
func CheckLayout(l Layout, worldSize, heads, layers, nvlinkDomain int) []LayoutIssue {
	var out []LayoutIssue
	for _, f := range []struct {
		name string
		v    int
	}{{"tensor", l.Tensor}, {"pipeline", l.Pipeline}, {"data", l.Data}, {"context", l.Context}, {"expert", l.Expert}} {
		if f.v < 0 {
			out = append(out, issue(f.name, false, "%s = %d must be a positive whole number (or left out for 1).", f.name, f.v))
		}
	}
	if out != nil {
		return out
	}
	n := l.normalized()
	if ws := n.WorldSize(); worldSize > 0 && ws != worldSize {
		out = append(out, issue("parallelism", false, "tensor × pipeline × data × context = %d × %d × %d × %d = %d, but the job runs %d processes (nodes × processes_per_node). Make the product equal %d%s.",
			n.Tensor, n.Pipeline, n.Data, n.Context, ws, worldSize, worldSize, suggestData(n, worldSize)))
	}
	if nvlinkDomain > 0 && n.Tensor > nvlinkDomain {
		out = append(out, issue("tensor", false, "tensor = %d exceeds the NVLink domain of %d GPUs, so tensor-parallel traffic would cross the much slower scale-out network. Use tensor ≤ %d and raise pipeline or data instead.", n.Tensor, nvlinkDomain, nvlinkDomain))
	}
	if heads > 0 && heads%n.Tensor != 0 {
		out = append(out, issue("tensor", false, "The model's %d attention heads do not divide evenly over tensor = %d GPUs. Choose a tensor size that divides %d.", heads, n.Tensor, heads))
	}
	if layers > 0 && n.Pipeline > layers {
		out = append(out, issue("pipeline", false, "pipeline = %d is more stages than the model's %d layers, so some stages would hold no layer. Use pipeline ≤ %d.", n.Pipeline, layers, layers))
	} else if layers > 0 && layers%n.Pipeline != 0 {
		out = append(out, issue("pipeline", true, "The model's %d layers do not split evenly over pipeline = %d stages, so the largest stage sets the pace and the others idle. A pipeline size that divides %d balances the stages.", layers, n.Pipeline, layers))
	}
	if n.Data%n.Expert != 0 {
		out = append(out, issue("expert", false, "expert = %d does not divide data = %d; expert parallelism is carved out of the data-parallel ranks. Choose an expert size that divides %d.", n.Expert, n.Data, n.Data))
	}
	return out
}

// suggestData proposes a data size that fixes the product, when one exists.
func suggestData(n Layout, worldSize int) string {
	rest := n.Tensor * n.Pipeline * n.Context
	if worldSize%rest != 0 {
		return ""
	}
	return fmt.Sprintf(", for example data = %d", worldSize/rest)
}

// CheckModel checks the model figures MemoryPerGPU relies on. The result is
// nil when all is well.
func CheckModel(m ModelSpec) []LayoutIssue {
	var out []LayoutIssue
	if m.ParametersB <= 0 {
		out = append(out, issue("parameters_b", false, "parameters_b = %g must be positive: the model size in billions of parameters, such as 70.", m.ParametersB))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"layers", m.Layers}, {"hidden", m.Hidden}, {"heads", m.Heads}, {"seq_len", m.SeqLen}, {"micro_batch", m.MicroBatch}} {
		if f.v < 0 {
			out = append(out, issue(f.name, false, "%s = %d cannot be negative.", f.name, f.v))
		}
	}
	if m.Heads > 0 && m.Hidden > 0 && m.Hidden%m.Heads != 0 {
		out = append(out, issue("heads", false, "hidden = %d does not divide by heads = %d; every attention head needs the same width. Check both figures against the model card.", m.Hidden, m.Heads))
	}
	if m.BytesPerParam < 0 {
		out = append(out, issue("bytes_per_param", false, "bytes_per_param = %g cannot be negative; mixed-precision Adam needs 16.", m.BytesPerParam))
	}
	if m.ZeroStage < 0 || m.ZeroStage > 3 {
		out = append(out, issue("zero_stage", false, "zero_stage = %d is not a ZeRO stage. Use 0 (none), 1 (optimizer states), 2 (and gradients) or 3 (and weights).", m.ZeroStage))
	}
	switch m.Recompute {
	case "", RecomputeSelective, RecomputeFull, RecomputeNone:
	default:
		out = append(out, issue("recompute", false, "recompute = %q is not known. Use \"selective\", \"full\" or \"none\".", m.Recompute))
	}
	return out
}
