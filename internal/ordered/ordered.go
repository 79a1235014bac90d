// Package ordered encodes large documents in chunks on every core and hands the chunks
// on in order, so a 100,000-instance state or plan is encoded in parallel yet written as
// one stream, with at most a few chunks held in memory.
package ordered

import (
	"sync"
	"sync/atomic"
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10); return &b }}

// Encode calls encode for chunks 0 to n-1, on up to workers goroutines at once, and emit
// with each chunk's bytes in chunk order; at most 2×workers chunks wait to be emitted.
// encode appends to buf and returns it. The bytes passed to emit are reused once it
// returns. The first error (encoding, or from emit) is returned after every chunk is
// done, and nothing is emitted after it.
func Encode(n, workers int, encode func(chunk int, buf []byte) ([]byte, error), emit func([]byte) error) error {
	if workers <= 1 || n <= 1 {
		bp := bufPool.Get().(*[]byte)
		defer bufPool.Put(bp)
		for c := range n {
			buf, err := encode(c, (*bp)[:0])
			*bp = buf
			if err == nil {
				err = emit(buf)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	type result struct {
		bp  *[]byte
		err error
	}
	slots := make([]chan result, n)
	for c := range slots {
		slots[c] = make(chan result, 1)
	}
	ahead := make(chan struct{}, 2*workers) // chunks encoded but not yet emitted
	var next atomic.Int64
	for range min(workers, n) {
		go func() {
			for {
				ahead <- struct{}{}
				c := int(next.Add(1) - 1)
				if c >= n {
					<-ahead
					return
				}
				bp := bufPool.Get().(*[]byte)
				buf, err := encode(c, (*bp)[:0])
				*bp = buf
				slots[c] <- result{bp, err}
			}
		}()
	}
	var err error
	for c := range n {
		r := <-slots[c]
		if err == nil {
			if err = r.err; err == nil {
				err = emit(*r.bp)
			}
		}
		bufPool.Put(r.bp)
		<-ahead
	}
	return err
}
