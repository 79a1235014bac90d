package statefile

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// parallelMin is the size of the instance list from which Parse splits it among cores
// (a variable for tests).
var parallelMin = 4 << 20

// instanceStart is how every instance but the first starts in a file Marshal wrote.
var instanceStart = []byte("\n    {\"address\":")

// resourcesParallel parses the instance list on several cores. It splits the list where
// Marshal starts an instance line and parses the pieces at once; the pieces must meet
// exactly (each ends with the comma before the next), which proves the splits fell
// between instances. On any problem it reports false, without an error, and the caller
// parses sequentially, which finds the first problem and its position.
func (p *parser) resourcesParallel(estimate int) (*states.State, bool) {
	start := p.pos + 1 // after '['
	rest := p.data[start:]
	workers := min(runtime.GOMAXPROCS(0), 8, len(rest)/(parallelMin/2))
	if len(rest) < parallelMin || workers < 2 {
		return nil, false
	}
	// Split points: the start of an instance line near each k/workers of the list.
	bounds := []int{start}
	for k := 1; k < workers; k++ {
		from := start + k*len(rest)/workers
		if from <= bounds[len(bounds)-1] {
			continue
		}
		i := bytes.Index(p.data[from:], instanceStart)
		if i < 0 {
			break
		}
		bounds = append(bounds, from+i)
	}
	type piece struct {
		insts []*states.Instance
		at    []int
		end   int // for the last piece: where the list ends (at ']')
		ok    bool
	}
	pieces := make([]piece, len(bounds))
	var wg sync.WaitGroup
	for k := range bounds {
		wg.Go(func() {
			limit := -1 // the last piece runs to the closing bracket
			if k+1 < len(bounds) {
				limit = bounds[k+1]
			}
			w := &parser{scanner: scanner{data: p.data, pos: bounds[k]}}
			pc := &pieces[k]
			pc.insts, pc.at, pc.end, pc.ok = w.instanceRun(limit, estimate/len(bounds)+16)
		})
	}
	wg.Wait()
	total := 0
	for _, pc := range pieces {
		if !pc.ok {
			return nil, false
		}
		total += len(pc.insts)
	}
	b := states.NewBuilder(total)
	for _, pc := range pieces {
		for i, inst := range pc.insts {
			if !b.Add(inst) {
				return nil, p.fail(pc.at[i], "duplicate resource instance address %s", inst.Address)
			}
		}
	}
	p.pos = pieces[len(pieces)-1].end + 1 // past ']'
	return b.State(), true
}

// instanceRun parses instances separated by commas from the current position. With a
// limit it must end exactly there, just after a comma; without one (-1) it must end
// at the list's closing bracket, whose offset it returns.
func (w *parser) instanceRun(limit, estimate int) (insts []*states.Instance, at []int, end int, ok bool) {
	insts = make([]*states.Instance, 0, estimate)
	at = make([]int, 0, estimate)
	var slab []states.Instance
	for {
		if len(slab) == 0 {
			slab = make([]states.Instance, min(max(estimate, 16), 4096))
		}
		w.ws()
		at = append(at, w.pos)
		if !w.instance(&slab[0]) {
			return nil, nil, 0, false
		}
		insts = append(insts, &slab[0])
		slab = slab[1:]
		switch w.peek() {
		case ',':
			w.pos++
			if w.pos == limit {
				return insts, at, 0, true
			}
			if limit >= 0 && w.pos > limit {
				return nil, nil, 0, false
			}
		case ']':
			if limit >= 0 {
				return nil, nil, 0, false
			}
			return insts, at, w.pos, true
		default:
			return nil, nil, 0, false
		}
	}
}
