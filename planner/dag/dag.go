// Package dag is a directed graph of comparable vertices with a topological order that
// names a cycle when there is one. It knows nothing about configurations; the planner
// builds a Graph of blocks and walks it.
package dag

import "slices"

// Graph is a directed graph; an edge from a to b means "a depends on b", so b comes first
// in the order. Vertices keep insertion order, which makes every walk deterministic.
//
// Every vertex also has a number, its position in that order. A caller that numbers
// its vertices itself (Dense) works with the numbers alone (ConnectIndex,
// OrderIndices, LevelIndices, EachDependencyIndex), and the graph then keeps no map of
// its vertices: for 100,000 blocks, looking each edge's ends up in one was a tenth of
// building the graph.
type Graph[V comparable] struct {
	index    map[V]int // made on first use by a method that takes a vertex
	vertices []V
	deps     [][]int32 // 32 bits: half the memory of 500,000 edges
}

// New returns an empty graph with room for n vertices.
func New[V comparable](n int) *Graph[V] {
	return &Graph[V]{index: make(map[V]int, n), vertices: make([]V, 0, n), deps: make([][]int32, 0, n)}
}

// Dense returns a graph of the given vertices, numbered by their position, without
// edges yet. The vertices must be distinct.
func Dense[V comparable](vertices []V) *Graph[V] {
	return &Graph[V]{vertices: vertices, deps: make([][]int32, len(vertices))}
}

// indexed returns the map of vertices to numbers, made on first use.
func (g *Graph[V]) indexed() map[V]int {
	if g.index == nil {
		g.index = make(map[V]int, len(g.vertices))
		for i, v := range g.vertices {
			g.index[v] = i
		}
	}
	return g.index
}

// Vertex returns the vertex numbered i.
func (g *Graph[V]) Vertex(i int) V { return g.vertices[i] }

// Add adds a vertex (a no-op when present).
func (g *Graph[V]) Add(v V) { g.Index(v) }

// Index returns a vertex's position in insertion order, adding it when missing: with
// ConnectIndex, a vertex of thousands of edges is looked up once, not once per edge.
func (g *Graph[V]) Index(v V) int {
	index := g.indexed()
	if i, ok := index[v]; ok {
		return i
	}
	i := len(g.vertices)
	index[v] = i
	g.vertices = append(g.vertices, v)
	g.deps = append(g.deps, nil)
	return i
}

// ConnectIndex is Connect for vertices given by Index.
func (g *Graph[V]) ConnectIndex(from, to int) { g.deps[from] = append(g.deps[from], int32(to)) }

// ConnectAll connects from to each vertex numbered in to. The graph keeps to, read
// only, when from has no edges yet (the caller must not change it), else copies it.
func (g *Graph[V]) ConnectAll(from int, to []int32) {
	if g.deps[from] == nil {
		g.deps[from] = slices.Clip(to)
		return
	}
	g.deps[from] = append(g.deps[from], to...)
}

// Has reports whether v is a vertex.
func (g *Graph[V]) Has(v V) bool { _, ok := g.indexed()[v]; return ok }

// Len returns the number of vertices.
func (g *Graph[V]) Len() int { return len(g.vertices) }

// Connect records that from depends on to; both are added when missing. Connecting a
// pair twice is harmless (the order and the walk count it consistently), so callers
// with thousands of edges per vertex need not pay for a duplicate check.
func (g *Graph[V]) Connect(from, to V) {
	f, t := g.Index(from), g.Index(to)
	g.ConnectIndex(f, t)
}

// EachDependency calls fn with each direct dependency of v, as many times as the edge
// was added: cheaper than DependenciesOf where repeats do not matter.
func (g *Graph[V]) EachDependency(v V, fn func(V)) {
	i, ok := g.indexed()[v]
	if !ok {
		return
	}
	for _, d := range g.deps[i] {
		fn(g.vertices[d])
	}
}

// EachDependencyIndex is EachDependency by number.
func (g *Graph[V]) EachDependencyIndex(i int, fn func(int)) {
	for _, d := range g.deps[i] {
		fn(int(d))
	}
}

// DependenciesOf returns the direct dependencies of v.
func (g *Graph[V]) DependenciesOf(v V) []V {
	i, ok := g.indexed()[v]
	if !ok {
		return nil
	}
	out := make([]V, 0, len(g.deps[i]))
	seen := make(map[int32]bool, len(g.deps[i]))
	for _, d := range g.deps[i] {
		if !seen[d] {
			seen[d] = true
			out = append(out, g.vertices[d])
		}
	}
	return out
}

// Vertices returns every vertex in insertion order.
func (g *Graph[V]) Vertices() []V { return slices.Clone(g.vertices) }

// Order returns the vertices so that every vertex comes after its dependencies (ties in
// insertion order). When the graph has a cycle it returns nil and one cycle, as a path
// whose last vertex depends on its first.
func (g *Graph[V]) Order() (order []V, cycle []V) {
	idx, cycle := g.OrderIndices()
	if cycle != nil {
		return nil, cycle
	}
	order = make([]V, len(idx))
	for i, v := range idx {
		order[i] = g.vertices[v]
	}
	return order, nil
}

// OrderIndices is Order by number.
func (g *Graph[V]) OrderIndices() (order []int, cycle []V) {
	n := len(g.vertices)
	pending := make([]int, n) // dependencies not yet placed
	dependents := make([][]int32, n)
	for v, ds := range g.deps {
		pending[v] = len(ds)
		for _, d := range ds {
			dependents[d] = append(dependents[d], int32(v))
		}
	}
	ready := make([]int, 0, n)
	for v := range n {
		if pending[v] == 0 {
			ready = append(ready, v)
		}
	}
	order = make([]int, 0, n)
	for len(ready) > 0 {
		v := ready[0]
		ready = ready[1:]
		order = append(order, v)
		for _, w := range dependents[v] {
			if pending[w]--; pending[w] == 0 {
				ready = append(ready, int(w))
			}
		}
	}
	if len(order) == n {
		return order, nil
	}
	return nil, g.findCycle(pending)
}

// Levels groups the vertices of order, which must be Order's, by depth: a vertex's
// level is one more than its deepest dependency's (0 without any), so the vertices of
// a level depend only on earlier levels. Within a level they keep order's order.
func (g *Graph[V]) Levels(order []V) [][]V {
	index := g.indexed()
	idx := make([]int, len(order))
	for i, v := range order {
		idx[i] = index[v]
	}
	levels := g.LevelIndices(idx)
	out := make([][]V, len(levels))
	for l, vs := range levels {
		out[l] = make([]V, len(vs))
		for i, v := range vs {
			out[l][i] = g.vertices[v]
		}
	}
	return out
}

// LevelIndices is Levels by number: order must be OrderIndices'.
func (g *Graph[V]) LevelIndices(order []int) [][]int {
	level := make([]int, len(g.vertices))
	var out [][]int
	for _, i := range order {
		l := 0
		for _, d := range g.deps[i] {
			l = max(l, level[d]+1)
		}
		level[i] = l
		if l == len(out) {
			out = append(out, nil)
		}
		out[l] = append(out[l], i)
	}
	return out
}

// findCycle follows unplaced dependencies from an unplaced vertex until one repeats.
func (g *Graph[V]) findCycle(pending []int) []V {
	start := -1
	for v, p := range pending {
		if p > 0 {
			start = v
			break
		}
	}
	pos := map[int]int{}
	var path []int
	for v := start; ; {
		if at, seen := pos[v]; seen {
			cyc := make([]V, 0, len(path)-at)
			for _, x := range path[at:] {
				cyc = append(cyc, g.vertices[x])
			}
			return cyc
		}
		pos[v] = len(path)
		path = append(path, v)
		next := -1
		for _, d := range g.deps[v] {
			if pending[d] > 0 {
				next = int(d)
				break
			}
		}
		v = next
	}
}
