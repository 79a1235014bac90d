package main

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The model is logistic regression: p(y=1|x) = σ(w·x + b). Parameters are laid out as
// [w_0 … w_{F-1}, b]. Everything here is a pure function of the seed, the rank and the
// step, so every rank, and every restart, computes the same numbers.

// dataset is one rank's shard of the synthetic binary-classification data.
type dataset struct {
	n, f int
	x    []float64 // n rows of f features, row-major
	y    []float64 // labels, 0 or 1
}

// Stream ids keep the generators of different purposes apart for one seed.
const (
	streamTruth = 0x7472757468 // "truth"
	streamShard = 0x5348415244 // "SHARD"
	streamBatch = 0x4241544348 // "BATCH"
)

// trueModel is the teacher that labels the data: weights scaled so that w·x has a
// standard deviation of about 3, and a bias of 0.5. It depends only on the seed, so all
// ranks' shards are drawn from the same distribution.
func trueModel(seed uint64, f int) []float64 {
	r := rand.New(rand.NewPCG(seed, streamTruth))
	p := make([]float64, f+1)
	for j := range f {
		p[j] = r.NormFloat64() * 3 / math.Sqrt(float64(f))
	}
	p[f] = 0.5
	return p
}

// makeDataset draws rank's shard: x ~ N(0, I), y ~ Bernoulli(σ(teacher(x))).
func makeDataset(seed uint64, rank, n, f int) *dataset {
	teacher := trueModel(seed, f)
	r := rand.New(rand.NewPCG(seed, streamShard+uint64(rank)<<40))
	d := &dataset{n: n, f: f, x: make([]float64, n*f), y: make([]float64, n)}
	for i := range n {
		row := d.x[i*f : (i+1)*f]
		for j := range row {
			row[j] = r.NormFloat64()
		}
		if r.Float64() < sigmoid(logit(teacher, row)) {
			d.y[i] = 1
		}
	}
	return d
}

func logit(p, x []float64) float64 {
	f := len(x)
	z := p[f]
	for j, xj := range x {
		z += p[j] * xj
	}
	return z
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// xent is the binary cross-entropy of logit z against label y, computed without
// overflow: softplus(z) − y·z.
func xent(z, y float64) float64 {
	return math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y*z
}

// lossGrad returns the mean cross-entropy of params over the rows idx of d and writes
// its gradient with respect to params into grad (len(params)).
func lossGrad(params []float64, d *dataset, idx []int, grad []float64) float64 {
	clear(grad)
	f := d.f
	var loss float64
	for _, i := range idx {
		row := d.x[i*f : (i+1)*f]
		z := logit(params, row)
		loss += xent(z, d.y[i])
		r := sigmoid(z) - d.y[i] // ∂loss/∂z
		for j, xj := range row {
			grad[j] += r * xj
		}
		grad[f] += r
	}
	inv := 1 / float64(len(idx))
	for j := range grad {
		grad[j] *= inv
	}
	return loss * inv
}

// fullLoss is the mean cross-entropy of params over the whole shard.
func fullLoss(params []float64, d *dataset) float64 {
	var loss float64
	for i := range d.n {
		loss += xent(logit(params, d.x[i*d.f:(i+1)*d.f]), d.y[i])
	}
	return loss / float64(d.n)
}

// batcher yields each step's mini-batch: the shard is reshuffled every epoch with a
// generator seeded by (seed, rank, epoch), so a step's batch is a function of the step
// alone and a resumed run needs no saved generator state.
type batcher struct {
	seed        uint64
	rank, n, bs int
	epoch       int
	perm        []int
}

func newBatcher(seed uint64, rank, n, bs int) *batcher {
	return &batcher{seed: seed, rank: rank, n: n, bs: bs, epoch: -1}
}

// indices returns the rows of step (1-based). The slice is valid until the next call.
func (b *batcher) indices(step int) []int {
	per := b.n / b.bs
	e, k := (step-1)/per, (step-1)%per
	if e != b.epoch {
		r := rand.New(rand.NewPCG(b.seed, streamBatch+uint64(b.rank)<<40+uint64(e)))
		b.perm = r.Perm(b.n)
		b.epoch = e
	}
	return b.perm[k*b.bs : (k+1)*b.bs]
}

// optimizer is SGD with momentum or Adam. Its exported fields are its checkpointed state.
type optimizer struct {
	Kind string `json:"kind"` // "sgd" or "adam"
	T    int    `json:"t"`    // updates applied
	// SGD: velocity. Adam: first and second moment estimates.
	Velocity []float64 `json:"velocity,omitempty"`
	M        []float64 `json:"m,omitempty"`
	V        []float64 `json:"v,omitempty"`

	lr, momentum, beta1, beta2, eps float64
}

func newOptimizer(cfg config, dim int) *optimizer {
	o := &optimizer{Kind: cfg.Optimizer}
	o.setHyper(cfg)
	switch o.Kind {
	case "adam":
		o.M, o.V = make([]float64, dim), make([]float64, dim)
	default:
		o.Velocity = make([]float64, dim)
	}
	return o
}

func (o *optimizer) setHyper(cfg config) {
	o.lr, o.momentum, o.beta1, o.beta2, o.eps = cfg.LR, cfg.Momentum, cfg.Beta1, cfg.Beta2, cfg.Eps
}

// check reports whether a checkpointed optimizer state fits dim parameters.
func (o *optimizer) check(kind string, dim int) error {
	if o.Kind != kind {
		return fmt.Errorf("checkpoint optimizer is %q but --optimizer is %q", o.Kind, kind)
	}
	want := [][]float64{o.Velocity}
	if kind == "adam" {
		want = [][]float64{o.M, o.V}
	}
	for _, s := range want {
		if len(s) != dim {
			return fmt.Errorf("checkpoint optimizer state has %d values, want %d", len(s), dim)
		}
	}
	return nil
}

// apply updates params in place with gradient g.
func (o *optimizer) apply(params, g []float64) {
	o.T++
	if o.Kind == "adam" {
		c1 := 1 - math.Pow(o.beta1, float64(o.T))
		c2 := 1 - math.Pow(o.beta2, float64(o.T))
		for j, gj := range g {
			o.M[j] = o.beta1*o.M[j] + (1-o.beta1)*gj
			o.V[j] = o.beta2*o.V[j] + (1-o.beta2)*gj*gj
			params[j] -= o.lr * (o.M[j] / c1) / (math.Sqrt(o.V[j]/c2) + o.eps)
		}
		return
	}
	for j, gj := range g {
		o.Velocity[j] = o.momentum*o.Velocity[j] + gj
		params[j] -= o.lr * o.Velocity[j]
	}
}
