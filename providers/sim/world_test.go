package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fabrica-iac/fabrica/providers"
)

// seeded applies n server creates in dir and returns their Done events by address.
func seeded(t *testing.T, dir string, n int) map[string]providers.Event {
	t.Helper()
	events, err := runApply(context.Background(), configured(t, dir, `{}`), createHardware(n))
	if err != nil {
		t.Fatal(err)
	}
	return finals(t, events)
}

func addresses(t *testing.T, dir string) []string {
	t.Helper()
	objs, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Address+"="+o.ID)
	}
	return got
}

func TestJournal_crashRecovery(t *testing.T) {
	dir := t.TempDir()
	created := seeded(t, dir, 2)
	journal := strings.Join([]string{
		`{"op":"apply","n":7}`,
		`{"op":"put","id":"sim-facility-10","kind":"facility","address":"facility.dc1","attrs":{"id":"sim-facility-10","it_power_kw":5}}`,
		`{"op":"delete","id":"` + created[addr(1)].ID + `"}`,
		`{"op":"put","id":"sim-facility-11","kind":"faci`, // torn by the crash
	}, "\n")
	jpath := filepath.Join(dir, ".fabrica", journalName)
	if err := os.WriteFile(jpath, []byte(journal), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "[facility.dc1=sim-facility-10 hardware.gpu[0]=" + created[addr(0)].ID + "]"
	if got := fmt.Sprint(addresses(t, dir)); got != want { // List replays without writing
		t.Errorf("List = %s, want %s", got, want)
	}
	p := configured(t, dir, `{}`) // folds the journal
	if _, err := os.Stat(jpath); !os.IsNotExist(err) {
		t.Errorf("journal not folded: %v", err)
	}
	if got := fmt.Sprint(addresses(t, dir)); got != want {
		t.Errorf("after fold = %s, want %s", got, want)
	}
	// IDs are not reused, a create for an address that has an object adopts it, and the
	// apply number carries on.
	events, _ := runApply(context.Background(), p, createHardware(2))
	if id := finals(t, events)[addr(1)].ID; id != "sim-hardware-11" {
		t.Errorf("next ID = %s, want sim-hardware-11", id)
	}
	if id := finals(t, events)[addr(0)].ID; id != created[addr(0)].ID {
		t.Errorf("create of existing %s made %s, want it to adopt %s", addr(0), id, created[addr(0)].ID)
	}
	var doc worldDoc
	data, _ := os.ReadFile(filepath.Join(dir, ".fabrica", worldName))
	if err := json.Unmarshal(data, &doc); err != nil || doc.Applies != 8 {
		t.Errorf("applies = %d (%v), want 8", doc.Applies, err)
	}
}

func TestJournal_corruptMiddleLine(t *testing.T) {
	dir := t.TempDir()
	seeded(t, dir, 1)
	bad := "{\"op\":\"apply\",\"n\":2}\nnot json\n{\"op\":\"delete\",\"id\":\"x\"}\n"
	if err := os.WriteFile(filepath.Join(dir, ".fabrica", journalName), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := New().Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(`{}`), WorkDir: dir})
	if !providers.HasErrors(resp.Diagnostics) || !strings.Contains(resp.Diagnostics[0].Detail, journalName+": line 2") {
		t.Errorf("Configure = %+v, want an error naming the journal's line 2", resp.Diagnostics)
	}
}

func TestWorld_corruptFileIsNotOverwritten(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".fabrica", worldName)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	const corrupt = `{"format_version":1,"objects":[{"id":`
	if err := os.WriteFile(path, []byte(corrupt), 0o644); err != nil {
		t.Fatal(err)
	}
	p := New()
	resp := p.Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(`{}`), WorkDir: dir})
	if !providers.HasErrors(resp.Diagnostics) || !strings.Contains(resp.Diagnostics[0].Detail, path) {
		t.Fatalf("Configure = %+v, want an error naming %s", resp.Diagnostics, path)
	}
	events, _ := runApply(context.Background(), p, createHardware(1))
	if e := finals(t, events)[addr(0)]; e.Type != providers.EventFailed {
		t.Errorf("apply on a corrupt world = %+v, want failed", e)
	}
	if err := Drift(dir, addr(0), "rack", "r2"); err == nil {
		t.Error("Drift on a corrupt world succeeded")
	}
	if data, _ := os.ReadFile(path); string(data) != corrupt {
		t.Errorf("world file changed to %q", data)
	}
}

func TestWorld_handEditShowsAsDrift(t *testing.T) {
	dir := t.TempDir()
	done := seeded(t, dir, 1)[addr(0)]
	path := filepath.Join(dir, ".fabrica", worldName)
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), `"rack":"r1"`, `"rack": "r7"`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	resp := configured(t, dir, `{}`).Read(context.Background(), providers.ReadRequest{Items: []providers.ReadItem{
		{Address: addr(0), Kind: "hardware", ID: done.ID, PriorHash: providers.AttrsHash(done.New)}}})
	r := resp.Results[0]
	if r.Unchanged || attr(t, r.Attrs, "rack") != `"r7"` || !strings.Contains(string(r.Attrs), `"rack":"r7"`) {
		t.Errorf("Read after a hand edit = %+v", r)
	}
}

// An edit that leaves an object's attributes invalid JSON is an error naming the object,
// however the line is read.
func TestWorld_handEditInvalidAttrs(t *testing.T) {
	dir := t.TempDir()
	seeded(t, dir, 1)
	path := filepath.Join(dir, ".fabrica", worldName)
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), `"rack":"r1"`, `"rack":r1`, 1)
	if edited == string(data) {
		t.Fatalf("no rack in %s", data)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := load(filepath.Join(dir, ".fabrica")); err == nil || !strings.Contains(err.Error(), "attrs") {
		t.Errorf("load after an edit that broke the attributes: %v, want an error about them", err)
	}
}

func TestDrift(t *testing.T) {
	dir := t.TempDir()
	seeded(t, dir, 2)
	tests := []struct {
		attr, value, want, err string
	}{
		{attr: "rack", value: "r5", want: `"r5"`},
		{attr: "power_kw", value: "10.5", want: `10.5`},
		{attr: "maintenance", value: "true", want: `true`},
		{attr: "role", value: `"42"`, want: `"42"`},
		{attr: "tags", value: `{"b":1,"a":2}`, want: `{"a":2,"b":1}`},
		{attr: "id", value: "x", err: "identity"},
		{attr: "", value: "x", err: "ATTR=VALUE"},
	}
	for _, tt := range tests {
		t.Run(tt.attr+"="+tt.value, func(t *testing.T) {
			err := Drift(dir, addr(1), tt.attr, tt.value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			objs, _ := List(dir)
			o := objs[1]
			if got := attr(t, o.Attrs, tt.attr); got != tt.want || o.Hash != providers.AttrsHash(o.Attrs) {
				t.Errorf("%s = %s, want %s (hash %s)", tt.attr, got, tt.want, o.Hash)
			}
		})
	}
}

func TestDrift_unknownAddress(t *testing.T) {
	dir := t.TempDir()
	if err := Remove(dir, "hardware.x"); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Remove in an empty world: %v", err)
	}
	seeded(t, dir, 3)
	err := Drift(dir, "hardware.gpu[7]", "rack", "r2")
	if err == nil || !strings.Contains(err.Error(), "did you mean hardware.gpu[0]?") {
		t.Errorf("err = %v, want a near match", err)
	}
	err = Remove(dir, "storage.lake")
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("err = %v, want no near match", err)
	}
}

func TestDrift_waitsForApply(t *testing.T) {
	dir := t.TempDir()
	seeded(t, dir, 1)
	lk, err := lockWorld(context.Background(), filepath.Join(dir, ".fabrica"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	defer func(d time.Duration) { oobLockWait = d }(oobLockWait)
	oobLockWait = 30 * time.Millisecond
	if err := Remove(dir, addr(0)); err == nil || !strings.Contains(err.Error(), "in use by another fabrica process") {
		t.Errorf("Remove while locked: %v", err)
	}
}

// TestApply_killed kills a process in the middle of an apply and checks that every
// change it reported done is in the world.
func TestApply_killed(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SIM_KILL_DIR="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var done []string
	for len(done) < 10 && lines.Scan() {
		done = append(done, lines.Text())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if len(done) < 10 {
		t.Fatalf("child reported %d changes done", len(done))
	}
	have := map[string]bool{}
	for _, a := range addresses(t, dir) {
		have[a] = true
	}
	for _, d := range done {
		if !have[d] {
			t.Errorf("%s was reported done but is not in the world", d)
		}
	}
}

func TestMain(m *testing.M) {
	if dir := os.Getenv("SIM_KILL_DIR"); dir != "" {
		killedChild(dir)
		return
	}
	os.Exit(m.Run())
}

// killedChild applies creates one at a time, printing "address=id" for each Done,
// until it is killed.
func killedChild(dir string) {
	p := New()
	p.Configure(context.Background(), providers.ConfigureRequest{Config: json.RawMessage(`{"latency":"2ms"}`), WorkDir: dir})
	in, out := make(chan providers.Change), make(chan providers.Event)
	go p.Apply(context.Background(), in, out)
	for _, c := range createHardware(10000) {
		in <- c
		for e := range out {
			if e.Type == providers.EventDone {
				fmt.Printf("%s=%s\n", e.Address, e.ID)
				break
			}
		}
	}
}

// An address carries two objects during a create-before-destroy replacement: deleting
// either leaves the other findable by address, and deleting both leaves none. The
// address index is built on first use: before the objects are put (then kept up to
// date), after, or over a world read back from its file.
func TestWorld_deleteKeepsOtherObjectAtAddress(t *testing.T) {
	for _, mode := range []string{"index first", "index last", "loaded"} {
		for _, first := range []string{"sim-hardware-1", "sim-hardware-2"} {
			dir := t.TempDir()
			w := newWorld(dir)
			if mode == "index first" {
				if _, ok := w.newestAt("hardware.n[0]"); ok {
					t.Fatal("an empty world has an object")
				}
			}
			// the newer object first: the newest is the higher ID, not the last put
			w.put(&Object{ID: "sim-hardware-2", Kind: "hardware", Address: "hardware.n[0]", Attrs: []byte(`{}`)})
			w.put(&Object{ID: "sim-hardware-1", Kind: "hardware", Address: "hardware.n[0]", Attrs: []byte(`{}`)})
			w.put(&Object{ID: "sim-hardware-3", Kind: "hardware", Address: "hardware.n[1]", Attrs: []byte(`{}`)})
			if mode == "loaded" {
				if err := w.save(); err != nil {
					t.Fatal(err)
				}
				var err error
				if w, _, err = load(dir); err != nil {
					t.Fatal(err)
				}
			}
			if o, ok := w.newestAt("hardware.n[0]"); !ok || o.ID != "sim-hardware-2" {
				t.Fatalf("%s: newest at hardware.n[0] = %v, %v; want sim-hardware-2", mode, o, ok)
			}
			w.del(first)
			other := map[string]string{"sim-hardware-1": "sim-hardware-2", "sim-hardware-2": "sim-hardware-1"}[first]
			if o, ok := w.newestAt("hardware.n[0]"); !ok || o.ID != other {
				t.Fatalf("%s: after deleting %s: newest at hardware.n[0] = %v, %v; want %s", mode, first, o, ok, other)
			}
			w.del(other)
			if o, ok := w.newestAt("hardware.n[0]"); ok {
				t.Fatalf("%s: after deleting both: found %s", mode, o.ID)
			}
			if o, ok := w.newestAt("hardware.n[1]"); !ok || o.ID != "sim-hardware-3" {
				t.Fatalf("%s: hardware.n[1] = %v, %v; want sim-hardware-3", mode, o, ok)
			}
			if w.nextID != 4 {
				t.Fatalf("%s: next ID number %d, want 4", mode, w.nextID)
			}
		}
	}
}

// Of objects at one address whose IDs carry no number (written by hand), the newest is
// the last ID in lexical order, whatever the order they were read in.
func TestWorld_newestOfHandWrittenIDs(t *testing.T) {
	for _, order := range [][]string{{"a", "b"}, {"b", "a"}} {
		w := newWorld(t.TempDir())
		for _, id := range order {
			w.put(&Object{ID: id, Kind: "hardware", Address: "hardware.n"})
		}
		if o, ok := w.newestAt("hardware.n"); !ok || o.ID != "b" {
			t.Fatalf("put %v: newest = %v, %v; want b", order, o, ok)
		}
	}
}

// A world file written by encode is loaded without hashing each object again: its
// checksum proves the objects intact. One without the checksum (as written before it
// was added), or whose objects were edited, is verified object by object; an empty
// world has a checksum too.
func TestWorld_checksumSparesRehashing(t *testing.T) {
	dir := t.TempDir()
	seeded(t, dir, 3)
	fab := filepath.Join(dir, ".fabrica")
	path := filepath.Join(fab, worldName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	load3 := func(content string) (*world, int64) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		before := rehashes.Load()
		w, _, err := load(fab)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.objects) != 3 {
			t.Fatalf("%d objects loaded, want 3", len(w.objects))
		}
		return w, rehashes.Load() - before
	}
	if !strings.Contains(string(data), trailerStart) {
		t.Fatalf("no checksum in the world file:\n%s", data)
	}
	if _, n := load3(string(data)); n != 0 {
		t.Errorf("an intact world file: %d objects hashed again, want none", n)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	lines[len(lines)-1] = "]}"
	if _, n := load3(strings.Join(lines, "\n") + "\n"); n != 3 {
		t.Errorf("a world file without checksum: %d objects hashed again, want 3", n)
	}
	edited := strings.Replace(string(data), `"rack":"r1"`, `"rack":"r7"`, 1)
	w, n := load3(edited)
	if n != 3 {
		t.Errorf("an edited world file: %d objects hashed again, want 3", n)
	}
	for _, o := range w.objects {
		if providers.AttrsHash(o.Attrs) != o.Hash {
			t.Errorf("%s: hash %s is not its attributes' after the edit", o.ID, o.Hash)
		}
	}

	empty := newWorld(t.TempDir())
	if err := os.MkdirAll(empty.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := empty.save(); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(empty.path())
	if doc, ok := decodeFast(raw); !ok || !doc.intact || len(doc.Objects) != 0 {
		t.Errorf("an empty world file %q: decoded %v, %v", raw, doc, ok)
	}
}
