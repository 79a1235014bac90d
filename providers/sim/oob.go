package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/agext/levenshtein"

	"github.com/fabrica-iac/fabrica/providers"
)

// oobLockWait is how long Drift and Remove wait for a running apply to release the
// world; a variable so tests can shorten it.
var oobLockWait = 10 * time.Second

// Drift changes one attribute of the object created for address, out of band, as if
// someone changed the real world behind fabrica's back; the next refresh sees it. value
// is read as JSON when it parses (42, true, "quoted", [1,2]) and as a string otherwise.
// When several objects were created for address, the newest is changed.
func Drift(workDir, address, attr, value string) error {
	if attr == "" {
		return fmt.Errorf("no attribute to drift: give ATTR=VALUE")
	}
	if attr == "id" {
		return fmt.Errorf("id is the object's identity and cannot drift; use `fabrica sim remove %s` to make it disappear", address)
	}
	return modify(workDir, func(w *world) error {
		o, err := w.byAddress(address)
		if err != nil {
			return err
		}
		attrs, err := splitObject(nil, o.Attrs)
		if err != nil {
			return fmt.Errorf("sim object %s: %w", o.ID, err)
		}
		v, err := parseValue(value)
		if err != nil {
			return err
		}
		b := merge(attrs, nil, []field{{key: []byte(attr), val: v}})
		w.put(&Object{ID: o.ID, Kind: o.Kind, Address: o.Address, Attrs: b, Hash: providers.AttrsHash(b)})
		return nil
	})
}

// Remove deletes the object created for address, out of band, as if the thing vanished
// from the real world; the next refresh reports it gone. When several objects were
// created for address, the newest is removed.
func Remove(workDir, address string) error {
	return modify(workDir, func(w *world) error {
		o, err := w.byAddress(address)
		if err != nil {
			return err
		}
		w.del(o.ID)
		return nil
	})
}

// List returns the objects of the world in workDir, ordered by address (then creation
// order). It takes no
// lock and writes nothing: it reads the world file and replays any journal in memory.
func List(workDir string) ([]Object, error) {
	w, _, err := load(filepath.Join(workDir, ".fabrica"))
	if err != nil {
		return nil, err
	}
	sorted := w.sorted()
	objs := make([]Object, len(sorted))
	for i, o := range sorted {
		objs[i] = *o
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Address < objs[j].Address })
	return objs, nil
}

// modify runs fn on the world of workDir under the world lock, then saves the world
// atomically (folding any journal).
func modify(workDir string, fn func(*world) error) error {
	dir := filepath.Join(workDir, ".fabrica")
	lk, err := lockWorld(context.Background(), dir, oobLockWait)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	w, _, err := load(dir)
	if err != nil {
		return err
	}
	if err := fn(w); err != nil {
		return err
	}
	return w.save()
}

// parseValue reads a drift value: JSON when it parses, else a string.
func parseValue(value string) (json.RawMessage, error) {
	if json.Valid([]byte(value)) {
		var v any
		d := json.NewDecoder(strings.NewReader(value))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		return json.Marshal(v) // canonical: nested keys sorted, compact
	}
	return appendString(nil, value), nil
}

// byAddress returns the newest object created for address, or an error naming the
// closest address there is.
func (w *world) byAddress(address string) (*Object, error) {
	if o, ok := w.newestAt(address); ok {
		return o, nil
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if len(w.objects) == 0 {
		return nil, fmt.Errorf("no sim object was created for %s: the sim world in %s is empty (run fabrica apply first)", address, w.dir)
	}
	msg := fmt.Sprintf("no sim object was created for %s", address)
	if near := w.nearAddress(address); near != "" {
		msg += fmt.Sprintf("; did you mean %s?", near)
	}
	return nil, fmt.Errorf("%s", msg)
}

// nearAddress returns the address closest to given, if it is within a few edits. The
// caller holds w.mu.
func (w *world) nearAddress(given string) string {
	seen := map[string]bool{}
	var addrs []string
	for _, o := range w.objects {
		if !seen[o.Address] {
			seen[o.Address] = true
			addrs = append(addrs, o.Address)
		}
	}
	sort.Strings(addrs) // ties go to the first in order
	best, bestDist := "", max(3, len(given)/3)+1
	for _, a := range addrs {
		if d := levenshtein.Distance(given, a, nil); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}
