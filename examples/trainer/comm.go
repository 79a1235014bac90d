package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// The ranks form a star around rank 0. Every message is a frame: a 20-byte little-endian
// header (magic "FBTR", kind, step, payload length) and the payload. Reduce frames carry
// float64 vectors, little-endian; the step in the header lets both ends detect a rank that
// is out of step. Every read and write has a deadline.

const (
	frameMagic  uint32 = 'F' | 'B'<<8 | 'T'<<16 | 'R'<<24
	headerSize         = 20
	maxPayload         = 64 << 20
	abortLinger        = time.Second // how long rank 0 tries to tell the others it gives up
)

type frameKind uint32

const (
	kindHello  frameKind = 1 // worker → rank 0: JSON hello
	kindStart  frameKind = 2 // rank 0 → worker: checkpoint JSON to resume from, or empty
	kindReduce frameKind = 3 // a gradient vector (and its answer, the mean)
	kindEval   frameKind = 4 // a loss to average for reporting
	kindAbort  frameKind = 5 // rank 0 → worker: the job failed, payload is the reason
)

func (k frameKind) String() string {
	switch k {
	case kindHello:
		return "hello"
	case kindStart:
		return "start"
	case kindReduce:
		return "reduce"
	case kindEval:
		return "eval"
	case kindAbort:
		return "abort"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

type frame struct {
	kind    frameKind
	step    uint64
	payload []byte
}

// writeFrame writes one frame in a single write.
func writeFrame(w io.Writer, kind frameKind, step uint64, payload []byte) error {
	buf := make([]byte, headerSize+len(payload))
	binary.LittleEndian.PutUint32(buf[0:], frameMagic)
	binary.LittleEndian.PutUint32(buf[4:], uint32(kind))
	binary.LittleEndian.PutUint64(buf[8:], step)
	binary.LittleEndian.PutUint32(buf[16:], uint32(len(payload)))
	copy(buf[headerSize:], payload)
	_, err := w.Write(buf)
	return err
}

// readFrame reads one frame; a short read is io.ErrUnexpectedEOF, none at all io.EOF.
func readFrame(r io.Reader) (frame, error) {
	var h [headerSize]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	if m := binary.LittleEndian.Uint32(h[0:]); m != frameMagic {
		return frame{}, fmt.Errorf("bad frame magic %#08x (not a trainer peer?)", m)
	}
	f := frame{
		kind: frameKind(binary.LittleEndian.Uint32(h[4:])),
		step: binary.LittleEndian.Uint64(h[8:]),
	}
	n := binary.LittleEndian.Uint32(h[16:])
	if n > maxPayload {
		return frame{}, fmt.Errorf("frame payload of %d bytes exceeds the %d-byte limit", n, maxPayload)
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return f, nil
}

func encodeFloats(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func decodeFloats(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("float64 payload of %d bytes is not a multiple of 8", len(b))
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// reducer averages vectors over all ranks; every rank gets bit-identical results.
type reducer interface {
	mean(kind frameKind, step uint64, v []float64) ([]float64, error)
	close()
}

// solo is the reducer of a world of one.
type solo struct{}

func (solo) mean(_ frameKind, _ uint64, v []float64) ([]float64, error) { return slices.Clone(v), nil }
func (solo) close()                                                     {}

// group is a star of TCP connections. On rank 0, conns[r] is rank r's connection (conns[0]
// is nil); on the others, conns[0] is the connection to rank 0.
type group struct {
	rank, world int
	conns       []net.Conn
	timeout     time.Duration
}

func (g *group) close() {
	for _, c := range g.conns {
		if c != nil {
			c.Close()
		}
	}
}

// mean sums the ranks' vectors on rank 0 in rank order, divides by the world size and
// sends the result back, so every rank applies exactly the same bits.
func (g *group) mean(kind frameKind, step uint64, v []float64) ([]float64, error) {
	if g.rank != 0 {
		if err := g.send(0, kind, step, encodeFloats(v)); err != nil {
			return nil, err
		}
		// Rank 0 may wait up to g.timeout for a hung rank before it tells this one which
		// rank it was; wait twice as long so its word arrives before our own timeout.
		return g.recv(0, kind, step, len(v), time.Now().Add(2*g.timeout))
	}
	acc := slices.Clone(v)
	deadline := time.Now().Add(g.timeout)
	for r := 1; r < g.world; r++ {
		in, err := g.recv(r, kind, step, len(v), deadline)
		if err != nil {
			g.abort(err)
			return nil, err
		}
		for i, x := range in {
			acc[i] += x
		}
	}
	for i := range acc {
		acc[i] /= float64(g.world)
	}
	payload := encodeFloats(acc)
	for r := 1; r < g.world; r++ {
		if err := g.send(r, kind, step, payload); err != nil {
			g.abort(err)
			return nil, err
		}
	}
	return acc, nil
}

func (g *group) send(r int, kind frameKind, step uint64, payload []byte) error {
	c := g.conns[r]
	c.SetWriteDeadline(time.Now().Add(g.timeout))
	if err := writeFrame(c, kind, step, payload); err != nil {
		return peerError(r, fmt.Sprintf("sending %s for step %d", kind, step), g.timeout, err)
	}
	return nil
}

func (g *group) recv(r int, kind frameKind, step uint64, n int, deadline time.Time) ([]float64, error) {
	c := g.conns[r]
	c.SetReadDeadline(deadline)
	f, err := readFrame(c)
	if err != nil {
		return nil, peerError(r, fmt.Sprintf("waiting for its %s of step %d", kind, step), g.timeout, err)
	}
	if f.kind == kindAbort {
		return nil, fmt.Errorf("rank %d aborted the job: %s", r, f.payload)
	}
	if f.kind != kind || f.step != step {
		return nil, fmt.Errorf("desync with rank %d: got %s of step %d, want %s of step %d (ranks run different flags or versions?)",
			r, f.kind, f.step, kind, step)
	}
	v, err := decodeFloats(f.payload)
	if err == nil && len(v) != n {
		err = fmt.Errorf("%d values, want %d", len(v), n)
	}
	if err != nil {
		return nil, fmt.Errorf("rank %d sent a bad %s of step %d: %w", r, kind, step, err)
	}
	return v, nil
}

// abort tells every other rank, as far as it can within abortLinger, why rank 0 gives up,
// so that they fail with a message naming the culprit instead of a bare "connection lost".
func (g *group) abort(cause error) {
	msg := []byte(cause.Error())
	for _, c := range g.conns {
		if c != nil {
			c.SetWriteDeadline(time.Now().Add(abortLinger))
			writeFrame(c, kindAbort, 0, msg)
		}
	}
}

// peerError explains a failed read or write with rank r.
func peerError(r int, doing string, timeout time.Duration, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("rank %d disconnected (%s): its process exited or was killed: %w", r, doing, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("rank %d did not answer within %s (%s): it is hung, stopped or overloaded (see --timeout)", r, timeout, doing)
	}
	return fmt.Errorf("rank %d: %s: %w", r, doing, err)
}

// hello is what a worker tells rank 0 when it joins.
type hello struct {
	Rank      int    `json:"rank"`
	WorldSize int    `json:"world_size"`
	RunID     string `json:"run_id"`
	Config    string `json:"config"`
	Host      string `json:"host"`
	PID       int    `json:"pid"`
}

// listen opens rank 0's listener on MASTER_ADDR:MASTER_PORT. When MASTER_ADDR names this
// host by an address it cannot bind (a NAT or load-balancer address), it listens on all
// interfaces instead, as torch's TCPStore does.
func listen(env contract) (net.Listener, error) {
	port := strconv.Itoa(env.MasterPort)
	ln, err := net.Listen("tcp", net.JoinHostPort(env.MasterAddr, port))
	if err != nil && errors.Is(err, syscall.EADDRNOTAVAIL) {
		ln, err = net.Listen("tcp", ":"+port)
	}
	if err != nil {
		return nil, fmt.Errorf("rank 0 cannot listen on MASTER_ADDR:MASTER_PORT: %w", err)
	}
	return ln, nil
}

// serve is rank 0's side of the rendezvous: it accepts every other rank within
// connectTimeout and checks that they run the same job with the same training flags; the
// caller then sends them the checkpoint to start from. It closes ln.
func serve(ln net.Listener, env contract, fingerprint string, connectTimeout, timeout time.Duration, logf func(string, ...any)) (*group, error) {
	defer ln.Close()
	g := &group{rank: 0, world: env.WorldSize, conns: make([]net.Conn, env.WorldSize), timeout: timeout}
	deadline := time.Now().Add(connectTimeout)
	if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		d.SetDeadline(deadline)
	}
	fail := func(err error) (*group, error) {
		g.abort(err)
		g.close()
		return nil, err
	}
	for joined := 1; joined < env.WorldSize; {
		c, err := ln.Accept()
		if err != nil {
			var missing []int
			for r := 1; r < env.WorldSize; r++ {
				if g.conns[r] == nil {
					missing = append(missing, r)
				}
			}
			return fail(fmt.Errorf("ranks %v did not connect to %s within %s (--connect-timeout): %w", missing, ln.Addr(), connectTimeout, err))
		}
		c.SetDeadline(time.Now().Add(timeout))
		f, err := readFrame(c)
		var h hello
		if err == nil && f.kind != kindHello {
			err = fmt.Errorf("first frame is %s, want hello", f.kind)
		}
		if err == nil {
			err = json.Unmarshal(f.payload, &h)
		}
		if err != nil {
			logf("ignoring a connection from %s: %v", c.RemoteAddr(), err)
			c.Close()
			continue
		}
		who := fmt.Sprintf("rank %d (pid %d on %s)", h.Rank, h.PID, h.Host)
		switch {
		case h.WorldSize != env.WorldSize:
			err = fmt.Errorf("%s has WORLD_SIZE=%d, rank 0 has %d", who, h.WorldSize, env.WorldSize)
		case h.Rank < 1 || h.Rank >= env.WorldSize:
			err = fmt.Errorf("%s: RANK out of range 1..%d", who, env.WorldSize-1)
		case g.conns[h.Rank] != nil:
			err = fmt.Errorf("%s: two processes claim RANK=%d", who, h.Rank)
		case h.RunID != env.RunID:
			err = fmt.Errorf("%s has FABRICA_RUN_ID=%q, rank 0 has %q", who, h.RunID, env.RunID)
		case h.Config != fingerprint:
			err = fmt.Errorf("%s trains with different flags: %s; rank 0: %s", who, h.Config, fingerprint)
		}
		if err != nil {
			c.SetWriteDeadline(time.Now().Add(abortLinger))
			writeFrame(c, kindAbort, 0, []byte(err.Error()))
			c.Close()
			return fail(err)
		}
		g.conns[h.Rank] = c
		joined++
	}
	return g, nil
}

// start sends every other rank the checkpoint to resume from (empty: start afresh).
func (g *group) start(checkpoint []byte) error {
	for r := 1; r < g.world; r++ {
		if err := g.send(r, kindStart, 0, checkpoint); err != nil {
			g.abort(err)
			return err
		}
	}
	return nil
}

// join is a worker's side of the rendezvous: it connects to rank 0, retrying with backoff
// until connectTimeout, says hello and returns the checkpoint rank 0 sends back.
func join(env contract, fingerprint string, connectTimeout, timeout time.Duration) (*group, []byte, error) {
	addr := net.JoinHostPort(env.MasterAddr, strconv.Itoa(env.MasterPort))
	deadline := time.Now().Add(connectTimeout)
	backoff := 20 * time.Millisecond
	var c net.Conn
	for {
		var err error
		c, err = net.DialTimeout("tcp", addr, min(5*time.Second, max(time.Until(deadline), time.Millisecond)))
		if err == nil {
			break
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil, fmt.Errorf("cannot reach rank 0 at MASTER_ADDR:MASTER_PORT %s within %s (--connect-timeout): %w", addr, connectTimeout, err)
		}
		time.Sleep(min(backoff, left))
		backoff = min(2*backoff, time.Second)
	}
	g := &group{rank: env.Rank, world: env.WorldSize, conns: []net.Conn{c}, timeout: timeout}
	host, _ := os.Hostname()
	h, _ := json.Marshal(hello{Rank: env.Rank, WorldSize: env.WorldSize, RunID: env.RunID, Config: fingerprint, Host: host, PID: os.Getpid()})
	if err := g.send(0, kindHello, 0, h); err != nil {
		c.Close()
		return nil, nil, err
	}
	// Rank 0 answers once every rank has joined, which may take up to its connect timeout.
	c.SetReadDeadline(time.Now().Add(connectTimeout + timeout))
	f, err := readFrame(c)
	switch {
	case err != nil:
		err = peerError(0, "waiting for the start of training", connectTimeout+timeout, err)
	case f.kind == kindAbort:
		err = fmt.Errorf("rank 0 aborted the job: %s", f.payload)
	case f.kind != kindStart:
		err = fmt.Errorf("desync with rank 0: got %s, want start", f.kind)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return g, f.payload, nil
}
