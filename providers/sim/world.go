package sim

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/fabrica-iac/fabrica/providers"
)

// File names under WORKDIR/.fabrica.
const (
	worldName   = "sim-world.json"
	journalName = "sim-world.journal"
	lockName    = "sim-world.lock"
)

// formatVersion is the version of the world file this package writes and reads.
const formatVersion = 1

// Object is one object of the sim world: a facility, server, fabric, storage cluster,
// DR pairing or training cluster that an apply created.
type Object struct {
	// ID is the provider ID, "sim-<kind>-<n>".
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Address is the fabrica address the object was created for, e.g. "hardware.gpu[3]";
	// Drift and Remove find objects by it.
	Address string `json:"address"`
	// Hash is providers.AttrsHash(Attrs).
	Hash  string          `json:"hash,omitempty"`
	Attrs providers.Attrs `json:"attrs"`
}

// worldDoc is the world file: one JSON document, one object per line.
type worldDoc struct {
	FormatVersion int       `json:"format_version"`
	Serial        uint64    `json:"serial"`
	NextID        uint64    `json:"next_id"`
	Applies       uint64    `json:"applies"`
	Objects       []*Object `json:"objects"`

	// intact is set by decodeFast when the file's checksum proves the objects are as
	// written: each one's hash is then that of its attributes.
	intact bool
}

// world is the inventory in memory. Objects are never modified in place: a change
// replaces the *Object, so a reader may keep one without holding mu.
type world struct {
	dir string // WORKDIR/.fabrica

	mu      sync.RWMutex
	serial  uint64 // of the world file; each save increments it
	objects map[string]*Object
	// byAddr maps an address to the ID of its newest object; idsAt to the IDs of all
	// its objects (two during a create-before-destroy replacement, else one). Only
	// apply and the out-of-band commands look objects up by address, so the index is
	// built on first use (nil until then): a plan's refresh does not pay for it.
	byAddr  map[string]string
	idsAt   map[string][]string
	nextID  uint64 // the number of the next object ID
	applies uint64 // Apply calls that changed something, for the failure draw
}

func newWorld(dir string) *world {
	return &world{dir: dir, objects: map[string]*Object{}, nextID: 1}
}

func (w *world) path() string        { return filepath.Join(w.dir, worldName) }
func (w *world) journalPath() string { return filepath.Join(w.dir, journalName) }

// get returns the object with the given ID.
func (w *world) get(id string) (*Object, bool) {
	w.mu.RLock()
	o, ok := w.objects[id]
	w.mu.RUnlock()
	return o, ok
}

// put adds or replaces an object, keeping nextID past its number.
func (w *world) put(o *Object) {
	w.mu.Lock()
	w.putLocked(o)
	w.mu.Unlock()
}

func (w *world) putLocked(o *Object) {
	prev, existed := w.objects[o.ID]
	if existed && prev.Address != o.Address {
		w.delLocked(o.ID)
		existed = false
	}
	w.objects[o.ID] = o
	if w.byAddr != nil {
		if !existed {
			w.idsAt[o.Address] = append(w.idsAt[o.Address], o.ID)
		}
		w.indexAddress(o)
	}
	if n, ok := idNumber(o.ID); ok && n >= w.nextID {
		w.nextID = n + 1
	}
}

// indexAddress makes o the newest object at its address when it is.
func (w *world) indexAddress(o *Object) {
	if cur, ok := w.objects[w.byAddr[o.Address]]; !ok || !newer(cur.ID, o.ID) {
		w.byAddr[o.Address] = o.ID
	}
}

// indexAddresses builds the address index; the caller holds the write lock.
func (w *world) indexAddresses() {
	if w.byAddr != nil {
		return
	}
	w.byAddr, w.idsAt = make(map[string]string, len(w.objects)), make(map[string][]string, len(w.objects))
	for id, o := range w.objects {
		w.idsAt[o.Address] = append(w.idsAt[o.Address], id)
		w.indexAddress(o)
	}
}

// del removes an object; removing a missing one is not an error.
func (w *world) del(id string) {
	w.mu.Lock()
	w.delLocked(id)
	w.mu.Unlock()
}

func (w *world) delLocked(id string) {
	o, ok := w.objects[id]
	if !ok {
		return
	}
	delete(w.objects, id)
	if w.byAddr == nil {
		return
	}
	ids := slices.DeleteFunc(w.idsAt[o.Address], func(x string) bool { return x == id })
	if len(ids) == 0 {
		delete(w.idsAt, o.Address)
		delete(w.byAddr, o.Address)
		return
	}
	w.idsAt[o.Address] = ids
	if w.byAddr[o.Address] == id {
		// Another object still carries the address (a create-before-destroy pair).
		w.byAddr[o.Address] = slices.MaxFunc(ids, func(a, b string) int {
			switch {
			case newer(b, a):
				return -1
			case newer(a, b):
				return 1
			}
			return 0
		})
	}
}

// newestAt returns the newest object created for an address.
func (w *world) newestAt(addr string) (*Object, bool) {
	w.mu.RLock()
	if w.byAddr != nil {
		o, ok := w.objects[w.byAddr[addr]]
		w.mu.RUnlock()
		return o, ok
	}
	w.mu.RUnlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.indexAddresses()
	o, ok := w.objects[w.byAddr[addr]]
	return o, ok
}

// newer reports whether the object with ID a was created after the one with ID b: a
// higher ID number, and of equal numbers (IDs written by hand) the later ID in
// lexical order, so that the newest object at an address does not depend on the order
// in which objects were read.
func newer(a, b string) bool {
	x, _ := idNumber(a)
	y, _ := idNumber(b)
	if x != y {
		return x > y
	}
	return a > b
}

// newID reserves the ID of a new object of the given kind.
func (w *world) newID(kind string) string {
	w.mu.Lock()
	n := w.nextID
	w.nextID++
	w.mu.Unlock()
	return "sim-" + kind + "-" + strconv.FormatUint(n, 10)
}

// idNumber returns n of an ID "sim-<kind>-<n>".
func idNumber(id string) (uint64, bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 64)
	return n, err == nil
}

// sorted returns the objects in creation order (by ID number). Sorting by address
// would chase a pointer per comparison: 200 ms at 100,000 objects against 10.
func (w *world) sorted() []*Object {
	type entry struct {
		n uint64
		o *Object
	}
	w.mu.RLock()
	entries := make([]entry, 0, len(w.objects))
	for _, o := range w.objects {
		n, ok := idNumber(o.ID)
		if !ok {
			n = math.MaxUint64 // hand-made IDs go last, in ID order
		}
		entries = append(entries, entry{n, o})
	}
	w.mu.RUnlock()
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.n, b.n); c != 0 {
			return c
		}
		return strings.Compare(a.o.ID, b.o.ID)
	})
	objs := make([]*Object, len(entries))
	for i, e := range entries {
		objs[i] = e.o
	}
	return objs
}

// load reads the world file and replays the journal over it, without writing anything;
// it needs no lock because the world file is only ever replaced by a rename. A missing
// file is an empty world. journaled reports whether a journal was found, so that a
// caller holding the lock can fold it.
func load(dir string) (w *world, journaled bool, err error) {
	w = newWorld(dir)
	data, err := os.ReadFile(w.path())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, false, err
	default:
		if err := w.decode(data); err != nil {
			return nil, false, fmt.Errorf("%s: %w", w.path(), err)
		}
	}
	journal, err := os.ReadFile(w.journalPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return w, false, nil
	case err != nil:
		return nil, false, err
	}
	if err := w.replay(journal); err != nil {
		return nil, false, fmt.Errorf("%s: %w", w.journalPath(), err)
	}
	return w, true, nil
}

// decode fills an empty world from the world file's bytes. Objects whose stored hash
// does not match their attributes (the file was edited by hand) are made canonical and
// hashed again, so the edit shows as drift.
func (w *world) decode(data []byte) error {
	doc, ok := decodeFast(data)
	if !ok {
		doc = &worldDoc{}
		if err := json.Unmarshal(data, doc); err != nil {
			return fmt.Errorf("not a sim world file: %w", err)
		}
	}
	if doc.FormatVersion > formatVersion {
		return fmt.Errorf("format_version %d is newer than this fabrica understands (%d)", doc.FormatVersion, formatVersion)
	}
	w.serial = doc.Serial
	w.nextID = max(doc.NextID, 1)
	w.applies = doc.Applies
	errs := make([]error, len(doc.Objects))
	forChunks(len(doc.Objects), 4096, func(lo, hi int) {
		for i, o := range doc.Objects[lo:hi] {
			switch {
			case o == nil || o.ID == "" || o.Kind == "":
				errs[lo+i] = fmt.Errorf("object %d has no id or kind", lo+i+1)
			case doc.intact && o.Hash != "":
			default:
				if err := o.rehash(); err != nil {
					errs[lo+i] = fmt.Errorf("object %q: attrs: %w", o.ID, err)
				}
			}
		}
	})
	w.objects = make(map[string]*Object, len(doc.Objects))
	for i, o := range doc.Objects {
		if errs[i] != nil {
			return errs[i]
		}
		if _, dup := w.objects[o.ID]; dup {
			return fmt.Errorf("object id %q appears twice", o.ID)
		}
		w.objects[o.ID] = o
		if n, ok := idNumber(o.ID); ok && n >= w.nextID {
			w.nextID = n + 1
		}
	}
	return nil
}

// rehashes counts rehash calls, for tests.
var rehashes atomic.Int64

// rehash checks Hash against Attrs and, when they differ, makes Attrs canonical and sets
// Hash again.
func (o *Object) rehash() error {
	rehashes.Add(1)
	if len(o.Attrs) == 0 || o.Attrs[0] != '{' {
		return errors.New("not a JSON object")
	}
	if o.Hash != "" && providers.AttrsHash(o.Attrs) == o.Hash {
		return nil
	}
	c, err := providers.Canonical(o.Attrs)
	if err != nil {
		return err
	}
	o.Attrs, o.Hash = c, providers.AttrsHash(c)
	return nil
}

// replay applies journal lines to the world. A last line that does not parse is what a
// crash in the middle of a write leaves, and is ignored; any other bad line is an error.
func (w *world) replay(data []byte) error {
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e journalEntry
		err := json.Unmarshal(line, &e)
		if err == nil {
			err = w.replayEntry(e)
		}
		if err != nil {
			if isLastLine(lines, i) {
				return nil // torn write
			}
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return nil
}

// isLastLine reports whether no non-blank line follows lines[i].
func isLastLine(lines [][]byte, i int) bool {
	for _, l := range lines[i+1:] {
		if len(bytes.TrimSpace(l)) != 0 {
			return false
		}
	}
	return true
}

func (w *world) replayEntry(e journalEntry) error {
	switch e.Op {
	case opApply:
		w.applies = max(w.applies, e.N)
	case opPut:
		o := &Object{ID: e.ID, Kind: e.Kind, Address: e.Address, Attrs: e.Attrs}
		if o.ID == "" || o.Kind == "" {
			return errors.New("put without id or kind")
		}
		if err := o.rehash(); err != nil {
			return err
		}
		w.putLocked(o)
	case opDelete:
		w.delLocked(e.ID)
	default:
		return fmt.Errorf("unknown op %q", e.Op)
	}
	return nil
}

// save folds the world into the world file atomically and removes the journal, whose
// changes the world holds. The caller holds the lock.
func (w *world) save() error {
	if err := atomicfile.WriteBytes(w.path(), 0o644, w.encode()); err != nil {
		return err
	}
	if err := os.Remove(w.journalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(w.dir)
}
