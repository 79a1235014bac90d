package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFrame_roundTrip(t *testing.T) {
	v := []float64{1.5, -0, math.Inf(1), math.SmallestNonzeroFloat64, -3.25e100}
	var buf bytes.Buffer
	if err := writeFrame(&buf, kindReduce, 1<<40+7, encodeFloats(v)); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if len(raw) != headerSize+8*len(v) {
		t.Fatalf("frame is %d bytes, want %d", len(raw), headerSize+8*len(v))
	}
	if string(raw[:4]) != "FBTR" || binary.LittleEndian.Uint64(raw[8:]) != 1<<40+7 ||
		binary.LittleEndian.Uint64(raw[headerSize:]) != math.Float64bits(1.5) {
		t.Fatalf("header or payload not little-endian as documented: % x", raw[:headerSize+8])
	}
	f, err := readFrame(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeFloats(f.payload)
	if err != nil {
		t.Fatal(err)
	}
	if f.kind != kindReduce || f.step != 1<<40+7 {
		t.Errorf("got %s step %d", f.kind, f.step)
	}
	for i := range v {
		if math.Float64bits(got[i]) != math.Float64bits(v[i]) {
			t.Errorf("value %d: got %v, want %v (bit-exact)", i, got[i], v[i])
		}
	}
}

func TestFrame_errors(t *testing.T) {
	var good bytes.Buffer
	writeFrame(&good, kindReduce, 3, encodeFloats([]float64{1, 2}))
	huge := bytes.Clone(good.Bytes())
	binary.LittleEndian.PutUint32(huge[16:], maxPayload+1)
	bad := bytes.Clone(good.Bytes())
	bad[0] = 'X'
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":         {nil, "EOF"},
		"short header":  {good.Bytes()[:10], "unexpected EOF"},
		"short payload": {good.Bytes()[:headerSize+5], "unexpected EOF"},
		"bad magic":     {bad, "bad frame magic"},
		"too large":     {huge, "exceeds"},
	} {
		_, err := readFrame(bytes.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
	}
	if _, err := decodeFloats(make([]byte, 12)); err == nil {
		t.Error("decodeFloats accepted 12 bytes")
	}
}

// startGroup runs a rendezvous of world ranks in this process on a free port.
func startGroup(t *testing.T, world int, timeout time.Duration) []*group {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := contract{MasterAddr: "127.0.0.1", MasterPort: ln.Addr().(*net.TCPAddr).Port, WorldSize: world, RunID: "r"}
	groups := make([]*group, world)
	errs := make([]error, world)
	var wg sync.WaitGroup
	for r := 1; r < world; r++ {
		wg.Go(func() {
			e := env
			e.Rank = r
			var start []byte
			groups[r], start, errs[r] = join(e, "fp", 5*time.Second, timeout)
			if errs[r] == nil && string(start) != "ckpt" {
				errs[r] = errors.New("start payload " + string(start))
			}
		})
	}
	groups[0], errs[0] = serve(ln, env, "fp", 5*time.Second, timeout, t.Logf)
	if errs[0] == nil {
		errs[0] = groups[0].start([]byte("ckpt"))
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	t.Cleanup(func() {
		for _, g := range groups {
			g.close()
		}
	})
	return groups
}

// allMean runs one mean on every rank concurrently; rank r contributes in[r].
func allMean(groups []*group, step uint64, in [][]float64) ([][]float64, []error) {
	out, errs := make([][]float64, len(groups)), make([]error, len(groups))
	var wg sync.WaitGroup
	for r, g := range groups {
		wg.Go(func() { out[r], errs[r] = g.mean(kindReduce, step, in[r]) })
	}
	wg.Wait()
	return out, errs
}

func TestGroup_mean(t *testing.T) {
	groups := startGroup(t, 3, 5*time.Second)
	for step := uint64(1); step <= 3; step++ {
		in := [][]float64{{1, 0.1, -2}, {2, 0.2, 4}, {3, 0.7, 1e-3}}
		out, errs := allMean(groups, step, in)
		for r, err := range errs {
			if err != nil {
				t.Fatalf("step %d rank %d: %v", step, r, err)
			}
		}
		want := make([]float64, 3)
		for i := range want { // summed in rank order, then divided, as rank 0 does
			want[i] = (in[0][i] + in[1][i] + in[2][i]) / 3
		}
		for r := range groups {
			if diff := cmp.Diff(want, out[r]); diff != "" {
				t.Errorf("rank %d mean (-want +got):\n%s", r, diff)
			}
		}
	}
}

// TestGroup_desync: a rank that sends the wrong step is caught and named.
func TestGroup_desync(t *testing.T) {
	groups := startGroup(t, 3, 2*time.Second)
	var wg sync.WaitGroup
	var errs [3]error
	wg.Go(func() { _, errs[1] = groups[1].mean(kindReduce, 5, []float64{1}) })
	wg.Go(func() { _, errs[2] = groups[2].mean(kindReduce, 6, []float64{1}) })
	_, errs[0] = groups[0].mean(kindReduce, 5, []float64{1})
	wg.Wait()
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "desync with rank 2: got reduce of step 6, want reduce of step 5") {
		t.Errorf("rank 0: %v", errs[0])
	}
	for _, r := range []int{1, 2} {
		if errs[r] == nil || !strings.Contains(errs[r].Error(), "rank 0 aborted the job: desync with rank 2") {
			t.Errorf("rank %d: %v", r, errs[r])
		}
	}
}

// TestGroup_peerDies: a rank that disconnects or hangs is named in every rank's error.
func TestGroup_peerDies(t *testing.T) {
	for _, tc := range []struct {
		name string
		kill func(g *group)
		want string
	}{
		{"exit", func(g *group) { g.close() }, "rank 2 disconnected"},
		{"hang", func(g *group) {}, "rank 2 did not answer within 300ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups := startGroup(t, 3, 300*time.Millisecond)
			tc.kill(groups[2])
			var err1 error
			done := make(chan struct{})
			go func() { _, err1 = groups[1].mean(kindReduce, 1, []float64{1}); close(done) }()
			_, err0 := groups[0].mean(kindReduce, 1, []float64{1})
			<-done
			if err0 == nil || !strings.Contains(err0.Error(), tc.want) {
				t.Errorf("rank 0: %v, want %q", err0, tc.want)
			}
			if err1 == nil || !strings.Contains(err1.Error(), "rank 0 aborted the job: "+tc.want) {
				t.Errorf("rank 1: %v", err1)
			}
		})
	}
}

// TestServe_rejects: rank 0 refuses a rank with another run id or other flags, and the
// rejected rank is told why.
func TestServe_rejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    hello
		want string
	}{
		{"run id", hello{Rank: 1, WorldSize: 2, RunID: "other", Config: "fp"}, `FABRICA_RUN_ID="other", rank 0 has "r"`},
		{"flags", hello{Rank: 1, WorldSize: 2, RunID: "r", Config: "fp2"}, "trains with different flags"},
		{"world", hello{Rank: 1, WorldSize: 3, RunID: "r", Config: "fp"}, "WORLD_SIZE=3, rank 0 has 2"},
		{"rank", hello{Rank: 2, WorldSize: 2, RunID: "r", Config: "fp"}, "RANK out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				b, _ := json.Marshal(tc.h)
				writeFrame(c, kindHello, 0, b)
				io.Copy(io.Discard, c)
			}()
			env := contract{WorldSize: 2, RunID: "r"}
			_, err = serve(ln, env, "fp", 5*time.Second, time.Second, t.Logf)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// TestJoin_timeout: a worker with no rank 0 to talk to gives up after --connect-timeout.
func TestJoin_timeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	env := contract{MasterAddr: "127.0.0.1", MasterPort: port, WorldSize: 2, Rank: 1}
	begin := time.Now()
	_, _, err = join(env, "fp", 300*time.Millisecond, time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot reach rank 0") {
		t.Errorf("got %v", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("gave up after %s", d)
	}
}
