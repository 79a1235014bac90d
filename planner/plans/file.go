package plans

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// planMagic starts every plan file; a file without it is not a plan.
const planMagic = "fabrica-plan\n"

// WriteFile writes the plan to path atomically (see internal/atomicfile), so a crash
// never leaves a half-written plan. With a keyring that encrypts, the file is
// encrypted (AES-256-GCM; see planner/states/crypt).
func WriteFile(path string, p *Plan, k *crypt.Keyring) error {
	return atomicfile.Write(path, 0o600, func(f *os.File) error { return writePlan(f, p, k) })
}

// writePlan writes the plan file's contents: encrypted, the sealed encoding; else the
// encoding streamed to f (a plan of 100,000 instances is 150 MB, which a buffer would
// hold twice over).
func writePlan(f *os.File, p *Plan, k *crypt.Keyring) error {
	if !k.Encrypts() {
		if _, err := f.WriteString(planMagic); err != nil {
			return fmt.Errorf("cannot write plan file: %w", err)
		}
		if err := Encode(f, p); err != nil {
			return fmt.Errorf("cannot write plan file: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	buf.WriteString(planMagic)
	if err := Encode(&buf, p); err != nil {
		return fmt.Errorf("cannot encode plan: %w", err)
	}
	enc, err := k.Encrypt(buf.Bytes())
	if err != nil {
		return fmt.Errorf("cannot encrypt the plan: %w", err)
	}
	if _, err := f.Write(enc); err != nil {
		return fmt.Errorf("cannot write plan file: %w", err)
	}
	return nil
}

// ReadFile reads a plan written by WriteFile, decrypting it with the keyring when it is
// encrypted; anything else gets an error saying the file is not a fabrica plan.
func ReadFile(path string, k *crypt.Keyring) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if crypt.IsEncrypted(data) {
		if k == nil {
			return nil, fmt.Errorf("%s is encrypted; configure the key in fabrica { encryption { ... } } to read it", path)
		}
		if data, err = k.Decrypt(data); err != nil {
			return nil, fmt.Errorf("cannot decrypt %s: %w", path, err)
		}
	}
	if !bytes.HasPrefix(data, []byte(planMagic)) {
		return nil, fmt.Errorf("%s is not a fabrica plan file (write one with fabrica plan --out FILE)", path)
	}
	p, err := Decode(data[len(planMagic):])
	if err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s has plan format %q; this fabrica reads format %q", path, p.FormatVersion, FormatVersion)
	}
	return p, nil
}

// Decode reads a plan document. Documents written by Encode (one resource change per
// line) are decoded on every core; any other valid plan JSON is decoded in one piece.
func Decode(data []byte) (*Plan, error) {
	start := bytes.Index(data, []byte("\n\"resource_changes\":[\n"))
	end := bytes.LastIndex(data, []byte("\n]"))
	if start < 0 || end < start {
		var p Plan
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, err
		}
		return &p, nil
	}
	var body []byte
	if bodyStart := start + len("\n\"resource_changes\":[\n"); end >= bodyStart {
		body = data[bodyStart:end]
	}
	// The rest of the document, with an empty resource_changes list.
	var outer bytes.Buffer
	outer.Write(data[:start])
	outer.WriteString("\n\"resource_changes\":[")
	outer.Write(data[end+1:])
	var p Plan
	if err := json.Unmarshal(outer.Bytes(), &p); err != nil {
		return nil, err
	}
	lines := bytes.Split(body, []byte(",\n"))
	if len(body) == 0 {
		lines = nil
	}
	p.ResourceChanges = make([]*ResourceChange, len(lines))
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	chunk := (len(lines) + len(errs) - 1) / max(len(errs), 1)
	for w := range errs {
		lo, hi := w*chunk, min((w+1)*chunk, len(lines))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := &rangeInterner{}
			for i := lo; i < hi; i++ {
				rc := &ResourceChange{}
				if err := in.decodeChange(lines[i], rc); err != nil {
					errs[w] = fmt.Errorf("resource change %d: %w", i+1, err)
					return
				}
				p.ResourceChanges[i] = rc
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

// changeWire is a resource change as decoded: its ranges stay raw until interned.
type changeWire struct {
	*ResourceChange
	DeclRange       json.RawMessage `json:"decl_range,omitempty"`
	AttributeRanges json.RawMessage `json:"attribute_ranges,omitempty"`
}

// rangeInterner decodes each distinct decl_range and attribute_ranges once: the
// instances of a counted block share them (as they did when the plan was made), which
// saves most of a 100,000-instance plan's decoding and memory.
type rangeInterner struct {
	decl  map[string]*Range
	attrs map[string]map[string]*Range
}

func (in *rangeInterner) decodeChange(line []byte, rc *ResourceChange) error {
	w := changeWire{ResourceChange: rc}
	if err := json.Unmarshal(line, &w); err != nil {
		return err
	}
	if len(w.DeclRange) > 0 && string(w.DeclRange) != "null" {
		r, ok := in.decl[string(w.DeclRange)]
		if !ok {
			r = &Range{}
			if err := json.Unmarshal(w.DeclRange, r); err != nil {
				return err
			}
			if in.decl == nil {
				in.decl = map[string]*Range{}
			}
			in.decl[string(w.DeclRange)] = r
		}
		rc.DeclRange = r
	}
	if len(w.AttributeRanges) > 0 && string(w.AttributeRanges) != "null" {
		m, ok := in.attrs[string(w.AttributeRanges)]
		if !ok {
			if err := json.Unmarshal(w.AttributeRanges, &m); err != nil {
				return err
			}
			if in.attrs == nil {
				in.attrs = map[string]map[string]*Range{}
			}
			in.attrs[string(w.AttributeRanges)] = m
		}
		rc.AttributeRanges = m
	}
	return nil
}
