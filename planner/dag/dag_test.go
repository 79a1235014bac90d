package dag

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrder_dependenciesFirst(t *testing.T) {
	g := New[string](4)
	g.Add("job")
	g.Connect("job", "cluster")
	g.Connect("cluster", "hw")
	g.Connect("fabric", "hw")
	g.Connect("cluster", "fabric")
	order, cyc := g.Order()
	if cyc != nil {
		t.Fatalf("unexpected cycle %v", cyc)
	}
	want := []string{"hw", "fabric", "cluster", "job"}
	if d := cmp.Diff(want, order); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

func TestOrder_cycleNamed(t *testing.T) {
	g := New[string](4)
	g.Connect("root", "a")
	g.Connect("a", "b")
	g.Connect("b", "c")
	g.Connect("c", "a")
	order, cyc := g.Order()
	if order != nil {
		t.Fatalf("want no order for a cyclic graph, got %v", order)
	}
	if d := cmp.Diff([]string{"a", "b", "c"}, cyc); d != "" {
		t.Errorf("cycle (-want +got):\n%s", d)
	}
}

func TestOrder_selfLoop(t *testing.T) {
	g := New[int](1)
	g.Connect(1, 1)
	if _, cyc := g.Order(); len(cyc) != 1 || cyc[0] != 1 {
		t.Errorf("self loop: got cycle %v, want [1]", cyc)
	}
}

func TestEachDependency(t *testing.T) {
	g := New[string](3)
	g.Connect("a", "b")
	g.Connect("a", "c")
	g.Connect("a", "b")
	var got []string
	g.EachDependency("a", func(d string) { got = append(got, d) })
	if want := []string{"b", "c", "b"}; !slices.Equal(got, want) {
		t.Errorf("EachDependency(a) = %v, want %v (every edge, repeats included)", got, want)
	}
	g.EachDependency("missing", func(string) { t.Error("called for a vertex not in the graph") })
	if got := g.DependenciesOf("a"); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("DependenciesOf(a) = %v, want [b c]", got)
	}
}

func TestIndexAndConnectIndex(t *testing.T) {
	g := New[string](3)
	a := g.Index("a")
	if again := g.Index("a"); again != a || g.Len() != 1 {
		t.Fatalf("Index(a) twice gave %d and %d, %d vertices", a, again, g.Len())
	}
	b, c := g.Index("b"), g.Index("c")
	g.ConnectIndex(c, b)
	g.ConnectIndex(b, a)
	order, cyc := g.Order()
	if cyc != nil || !slices.Equal(order, []string{"a", "b", "c"}) {
		t.Errorf("order %v, cycle %v; want [a b c]", order, cyc)
	}
	if got := g.DependenciesOf("c"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("DependenciesOf(c) = %v, want [b]", got)
	}
}

// Levels puts each vertex one level after its deepest dependency, in order within a
// level: checked against the definition on random graphs.
func TestLevels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100 {
		n := 1 + r.IntN(60)
		g := New[int](n)
		for v := range n {
			g.Add(v)
			for range r.IntN(4) {
				if v > 0 {
					g.Connect(v, r.IntN(v)) // only on earlier vertices: no cycle
				}
			}
		}
		order, cycle := g.Order()
		if cycle != nil {
			t.Fatal(cycle)
		}
		levels := g.Levels(order)
		at := map[int]int{}
		pos := map[int]int{}
		for i, v := range order {
			pos[v] = i
		}
		seen := 0
		for l, vs := range levels {
			if len(vs) == 0 {
				t.Fatalf("level %d is empty", l)
			}
			for i, v := range vs {
				at[v] = l
				if i > 0 && pos[vs[i-1]] > pos[v] {
					t.Fatalf("level %d is not in order: %v", l, vs)
				}
			}
			seen += len(vs)
		}
		if seen != n {
			t.Fatalf("%d vertices in levels, want %d", seen, n)
		}
		for v := range n {
			want := 0
			for _, d := range g.DependenciesOf(v) {
				want = max(want, at[d]+1)
			}
			if at[v] != want {
				t.Fatalf("vertex %d at level %d, want %d", v, at[v], want)
			}
		}
	}
}

// A Dense graph, worked with by number, orders and levels as a graph built vertex by
// vertex does, and finds its vertices by value too.
func TestDenseIsNew(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 100 {
		n := 1 + r.IntN(60)
		names := make([]string, n)
		for v := range names {
			names[v] = fmt.Sprintf("v%d", v)
		}
		built, dense := New[string](n), Dense(slices.Clone(names))
		for v := range n {
			built.Add(names[v])
			list := make([]int32, 0, 8) // room to grow: the graph must not append into it
			for k := range r.IntN(4) {
				if v > 0 {
					d := r.IntN(v)
					built.Connect(names[v], names[d])
					if k == 0 && r.IntN(2) == 0 {
						dense.ConnectIndex(v, d) // an edge before the list
					} else {
						list = append(list, int32(d))
					}
				}
			}
			dense.ConnectAll(v, list)
			if v > 0 && r.IntN(2) == 0 { // an edge after the list
				dense.ConnectIndex(v, v-1)
				built.Connect(names[v], names[v-1])
				if full := list[:cap(list)]; len(list) < cap(list) && full[len(list)] != 0 {
					t.Fatalf("vertex %d: an edge was written into the list given to ConnectAll", v)
				}
			}
		}
		want, _ := built.Order()
		order, cycle := dense.OrderIndices()
		if cycle != nil {
			t.Fatal(cycle)
		}
		got := make([]string, len(order))
		for i, v := range order {
			got[i] = dense.Vertex(v)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("order (-New +Dense):\n%s", d)
		}
		wantLevels := built.Levels(want)
		for l, vs := range dense.LevelIndices(order) {
			for i, v := range vs {
				if names[v] != wantLevels[l][i] {
					t.Fatalf("level %d: %v, want %v", l, vs, wantLevels[l])
				}
			}
		}
		v := r.IntN(n)
		var byIndex, byValue []string
		dense.EachDependencyIndex(v, func(d int) { byIndex = append(byIndex, names[d]) })
		dense.EachDependency(names[v], func(d string) { byValue = append(byValue, d) })
		if !slices.Equal(byIndex, byValue) || !dense.Has(names[v]) || dense.Index(names[v]) != v {
			t.Fatalf("vertex %s: dependencies %v by number, %v by value; index %d", names[v], byIndex, byValue, dense.Index(names[v]))
		}
	}
}

// A cycle in a Dense graph is named by its vertices.
func TestDenseCycle(t *testing.T) {
	g := Dense([]string{"root", "a", "b"})
	g.ConnectIndex(0, 1)
	g.ConnectIndex(1, 2)
	g.ConnectIndex(2, 1)
	if order, cyc := g.OrderIndices(); order != nil || !slices.Equal(cyc, []string{"a", "b"}) {
		t.Errorf("order %v, cycle %v; want no order and the cycle [a b]", order, cyc)
	}
}
