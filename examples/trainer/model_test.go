package main

import (
	"math"
	"slices"
	"testing"
)

// TestLossGrad_finiteDifferences checks the analytic gradient against central
// differences of the loss.
func TestLossGrad_finiteDifferences(t *testing.T) {
	const f = 5
	d := makeDataset(7, 1, 50, f)
	idx := []int{0, 3, 4, 9, 17, 31, 49}
	params := []float64{0.3, -1.2, 0.8, 2.0, -0.4, 0.1}
	grad := make([]float64, f+1)
	lossGrad(params, d, idx, grad)
	const h = 1e-6
	scratch := make([]float64, f+1)
	for j := range params {
		p := slices.Clone(params)
		p[j] += h
		up := lossGrad(p, d, idx, scratch)
		p[j] -= 2 * h
		down := lossGrad(p, d, idx, scratch)
		num := (up - down) / (2 * h)
		if math.Abs(num-grad[j]) > 1e-7*math.Max(1, math.Abs(num)) {
			t.Errorf("∂loss/∂p[%d]: analytic %.10g, finite differences %.10g", j, grad[j], num)
		}
	}
}

func TestXent_stable(t *testing.T) {
	for _, tc := range []struct{ z, y, want float64 }{
		{0, 1, math.Ln2},
		{0, 0, math.Ln2},
		{800, 1, 0},
		{800, 0, 800},
		{-800, 0, 0},
		{-800, 1, 800},
	} {
		if got := xent(tc.z, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("xent(%g, %g) = %g, want %g", tc.z, tc.y, got, tc.want)
		}
	}
	if s := sigmoid(-800); s != 0 || math.IsNaN(s) {
		t.Errorf("sigmoid(-800) = %g", s)
	}
}

// TestDataset_deterministic: a shard depends on seed and rank only, and shards differ.
func TestDataset_deterministic(t *testing.T) {
	a, b := makeDataset(1, 0, 100, 4), makeDataset(1, 0, 100, 4)
	if !slices.Equal(a.x, b.x) || !slices.Equal(a.y, b.y) {
		t.Fatal("same seed and rank gave different shards")
	}
	if c := makeDataset(1, 1, 100, 4); slices.Equal(a.x, c.x) {
		t.Fatal("ranks 0 and 1 got the same shard")
	}
	pos := 0.0
	for _, y := range a.y {
		pos += y
	}
	if pos < 20 || pos > 80 {
		t.Errorf("%v positives out of 100: labels are too unbalanced", pos)
	}
}

// TestBatcher_epochs: each epoch visits every row at most once, and a batch depends only
// on the step, whatever order the steps are asked in.
func TestBatcher_epochs(t *testing.T) {
	const n, bs = 10, 3
	b := newBatcher(1, 0, n, bs)
	seen := map[int]bool{}
	var steps [][]int
	for step := 1; step <= 3; step++ { // epoch 0
		idx := slices.Clone(b.indices(step))
		steps = append(steps, idx)
		for _, i := range idx {
			if seen[i] {
				t.Fatalf("row %d twice in epoch 0", i)
			}
			seen[i] = true
		}
	}
	b.indices(7) // move to another epoch, then come back from a fresh batcher
	fresh := newBatcher(1, 0, n, bs)
	if got := fresh.indices(2); !slices.Equal(got, steps[1]) {
		t.Errorf("step 2 = %v from a fresh batcher, %v before", got, steps[1])
	}
	if slices.Equal(b.indices(4), steps[0]) && slices.Equal(b.indices(5), steps[1]) {
		t.Error("epoch 1 has the same order as epoch 0")
	}
}

// TestOptimizers_train: both optimizers bring the full-shard loss well below ln 2.
func TestOptimizers_train(t *testing.T) {
	for _, kind := range []string{"sgd", "adam"} {
		t.Run(kind, func(t *testing.T) {
			cfg := config{Optimizer: kind, LR: 0.1, Momentum: 0.9, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
			const f = 8
			d := makeDataset(3, 0, 500, f)
			b := newBatcher(3, 0, 500, 32)
			params, grad := make([]float64, f+1), make([]float64, f+1)
			o := newOptimizer(cfg, f+1)
			for step := 1; step <= 150; step++ {
				lossGrad(params, d, b.indices(step), grad)
				o.apply(params, grad)
			}
			if got := fullLoss(params, d); got > 0.5 {
				t.Errorf("loss after 150 steps = %.4f, want < 0.5 (from %.4f)", got, math.Ln2)
			}
			if o.T != 150 {
				t.Errorf("optimizer counted %d updates, want 150", o.T)
			}
		})
	}
}
