package plans

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/fabrica-iac/fabrica/planner/states/crypt"
)

// planMagic starts every plan file; a file without it is not a plan.
const planMagic = "fabrica-plan\n"

// WriteFile writes the plan to path atomically (see internal/atomicfile), so a crash
// never leaves a half-written plan. With a keyring that encrypts, the file is
// encrypted (AES-256-GCM; see planner/states/crypt).
func WriteFile(path string, p *Plan, k *crypt.Keyring) error {
	return writeError(path, atomicfile.Write(path, 0o600, func(f *os.File) error { return writePlan(f, p, k) }))
}

// writeError says which plan file could not be written and, where the user can fix it,
// how: the temporary file's name in the underlying error means nothing to them.
func writeError(path string, err error) error {
	var pe *fs.PathError
	switch {
	case err == nil || errors.Is(err, errPlanAbandoned):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write the plan file %s: the directory %s does not exist; create it, or write the plan into an existing directory", path, filepath.Dir(path))
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("cannot write the plan file %s: permission denied in %s; write the plan where you may create files", path, filepath.Dir(path))
	case errors.As(err, &pe):
		return fmt.Errorf("cannot write the plan file %s: %s: %w", path, pe.Op, pe.Err)
	}
	return fmt.Errorf("cannot write the plan file %s: %w", path, err)
}

// writePlan writes the plan file's contents: encrypted, the sealed encoding; else the
// encoding streamed to f (a plan of 100,000 instances is 150 MB, which a buffer would
// hold twice over).
func writePlan(f *os.File, p *Plan, k *crypt.Keyring) error {
	if !k.Encrypts() {
		if _, err := f.WriteString(planMagic); err != nil {
			return err
		}
		if err := Encode(f, p); err != nil {
			return err
		}
		return nil
	}
	// Sized once (Encode would grow a buffer that holds the magic already).
	buf := bytes.NewBuffer(make([]byte, 0, len(planMagic)+EncodedSizeHint(p)))
	buf.WriteString(planMagic)
	if err := Encode(buf, p); err != nil {
		return fmt.Errorf("cannot encode plan: %w", err)
	}
	enc, err := k.Encrypt(buf.Bytes())
	if err != nil {
		return fmt.Errorf("cannot encrypt the plan: %w", err)
	}
	if _, err := f.Write(enc); err != nil {
		return err
	}
	return nil
}

// PendingFile is a plan file being written in two steps: the resource changes, most of
// a large plan (150 MB for 100,000 instances), go to disk in the background while the
// caller completes the plan (its policy findings and diagnostics); Finish then writes
// the rest and puts the file in place, atomically as WriteFile does. An encrypted plan
// is sealed as a whole, so it is written entirely by Finish. Finish and Abort may be
// called from any goroutine, more than once: the first call decides.
type PendingFile struct {
	path string
	plan *Plan
	keys *crypt.Keyring

	once    sync.Once
	decided chan struct{} // closed once finish is set
	finish  bool

	written chan struct{} // closed once the write has ended, with err
	err     error
}

var errPlanAbandoned = errors.New("interrupted: the plan file was not written")

// StartFile begins writing p to path. Until Finish or Abort, the caller may set p's
// Policy and Diagnostics but must change nothing else in it.
func StartFile(path string, p *Plan, k *crypt.Keyring) *PendingFile {
	pf := &PendingFile{path: path, plan: p, keys: k, decided: make(chan struct{}), written: make(chan struct{})}
	if k.Encrypts() {
		go func() {
			<-pf.decided
			if pf.finish {
				pf.err = WriteFile(path, p, k)
			} else {
				pf.err = errPlanAbandoned
			}
			close(pf.written)
		}()
		return pf
	}
	go func() {
		pf.err = writeError(path, atomicfile.Write(path, 0o600, pf.fill))
		close(pf.written)
	}()
	return pf
}

// fill writes the file: its first part at once, the rest once Finish is called.
func (pf *PendingFile) fill(f *os.File) error {
	if pf.abandoned() {
		return errPlanAbandoned
	}
	bw := bufio.NewWriterSize(atomicfile.NewFlushingWriter(f), 1<<20)
	e := &encoder{w: bw}
	e.raw(planMagic)
	if err := e.head(pf.plan); err != nil {
		return err
	}
	if err := e.flush(); err != nil {
		return err
	}
	if pf.abandoned() {
		return errPlanAbandoned
	}
	// Synced now, so that the final sync has only the tail left to write.
	if err := f.Sync(); err != nil {
		return err
	}
	<-pf.decided
	if !pf.finish {
		return errPlanAbandoned
	}
	e.tail(pf.plan)
	if err := e.flush(); err != nil {
		return err
	}
	return nil
}

func (pf *PendingFile) abandoned() bool {
	select {
	case <-pf.decided:
		return !pf.finish
	default:
		return false
	}
}

func (pf *PendingFile) decide(finish bool) {
	pf.once.Do(func() {
		pf.finish = finish
		close(pf.decided)
	})
}

// Finish writes the rest of the plan and replaces the file at path with it. After an
// Abort it returns an error and writes nothing.
func (pf *PendingFile) Finish() error {
	pf.decide(true)
	<-pf.written
	return pf.err
}

// Abort abandons the file: whatever was written is removed, and the file at path, if
// any, is left as it was. After a Finish it does nothing.
func (pf *PendingFile) Abort() {
	pf.decide(false)
	<-pf.written
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
		return nil, fmt.Errorf("%s has plan format %q; this fabrica reads format %q: make the plan again with fabrica plan --out %s",
			path, p.FormatVersion, FormatVersion, path)
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
	// The rest of the document, with an empty resource_changes list and without the
	// attribute_ranges member when it is laid out as Encode writes it (one resource
	// per line), which is decoded on every core below.
	rest := data[end+2:] // after the "]"
	var table []byte
	const tableHead = ",\n\"attribute_ranges\":{\n"
	if bytes.HasPrefix(rest, []byte(tableHead)) {
		if n := bytes.Index(rest, []byte("\n}")); n > len(tableHead) {
			table, rest = rest[len(tableHead):n], rest[n+2:]
		}
	}
	var outer bytes.Buffer
	outer.Write(data[:start])
	outer.WriteString("\n\"resource_changes\":[]")
	outer.Write(rest)
	var p Plan
	if err := json.Unmarshal(outer.Bytes(), &p); err != nil {
		return nil, err
	}
	if table != nil {
		m, err := decodeRangesTable(table)
		if err != nil {
			return nil, fmt.Errorf("attribute_ranges: %w", err)
		}
		p.AttributeRanges = m
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

// tablesDecoded counts decodeRangesTable's calls, for a test that Decode takes it.
var tablesDecoded atomic.Int64

// decodeRangesTable decodes the lines of the attribute_ranges member as Encode writes
// them ("resource":{…} joined by ",\n"), on every core; any other layout goes to
// json.Unmarshal.
func decodeRangesTable(body []byte) (map[string]map[string]*Range, error) {
	tablesDecoded.Add(1)
	lines := bytes.Split(body, []byte(",\n"))
	names := make([]string, len(lines))
	ranges := make([]map[string]*Range, len(lines))
	var failed atomic.Bool
	workers := runtime.GOMAXPROCS(0)
	per := (len(lines) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(lines); lo += per {
		hi := min(lo+per, len(lines))
		wg.Go(func() {
			for i := lo; i < hi && !failed.Load(); i++ {
				line := lines[i]
				kEnd, ok := skipString(line, 0)
				if !ok || kEnd >= len(line) || line[kEnd] != ':' {
					failed.Store(true)
					return
				}
				name, ok := unquoteKey(line[:kEnd])
				m, err := decodeAttrRanges(line[kEnd+1:])
				if !ok || err != nil {
					failed.Store(true)
					return
				}
				names[i], ranges[i] = name, m
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		var m map[string]map[string]*Range
		err := json.Unmarshal(append(append([]byte("{"), body...), '}'), &m)
		return m, err
	}
	m := make(map[string]map[string]*Range, len(lines))
	for i, name := range names {
		m[name] = ranges[i]
	}
	return m, nil
}

// rangeInterner decodes each distinct decl_range once: the instances of a counted
// block share it (as they did when the plan was made), which saves much of a
// 100,000-instance plan's decoding and memory.
type rangeInterner struct {
	decl map[string]*Range
}

// decodeChange decodes one line of resource_changes as json.Unmarshal would, field by
// field without reflection: a plan of 100,000 instances is 150 MB, and reflection made
// reading it most of the time apply took before its first change. Before and After are
// slices of line (which the plan keeps), checked to be valid JSON.
func (in *rangeInterner) decodeChange(line []byte, rc *ResourceChange) error {
	var err error
	ok := wholeObject(line, func(key []byte, vStart, vEnd int) {
		if err != nil {
			return
		}
		v := line[vStart:vEnd:vEnd]
		switch string(key) {
		case `"address"`:
			err = setString(&rc.Address, v)
		case `"kind"`:
			err = setString(&rc.Kind, v)
		case `"name"`:
			err = setString(&rc.Name, v)
		case `"index"`:
			err = json.Unmarshal(v, &rc.Index)
		case `"provider"`:
			err = setString(&rc.Provider, v)
		case `"action"`:
			a := string(rc.Action)
			err = setString(&a, v)
			rc.Action = Action(a)
		case `"reason"`:
			err = setString(&rc.Reason, v)
		case `"before"`:
			rc.Before, err = decodeRaw(v)
		case `"after"`:
			rc.After, err = decodeRaw(v)
		case `"after_unknown"`:
			rc.AfterUnknown, err = decodeStrings(v)
		case `"derived"`:
			rc.Derived, err = decodeStrings(v)
		case `"replace_paths"`:
			rc.ReplacePaths, err = decodeStrings(v)
		case `"changed_attributes"`:
			rc.ChangedAttributes, err = decodeStrings(v)
		case `"sensitive_attributes"`:
			rc.SensitiveAttributes, err = decodeStrings(v)
		case `"dependencies"`:
			rc.Dependencies, err = decodeStrings(v)
		case `"decl_range"`:
			rc.DeclRange, err = in.declRange(v)
		case `"prior_id"`:
			err = setString(&rc.PriorID, v)
		case `"config_hash"`:
			err = setString(&rc.ConfigHash, v)
		case `"create_before_destroy"`:
			err = json.Unmarshal(v, &rc.CreateBeforeDestroy)
		case `"prevent_destroy"`:
			err = json.Unmarshal(v, &rc.PreventDestroy)
		case `"record_only"`:
			err = json.Unmarshal(v, &rc.RecordOnly)
		default:
			// A key written with escapes, or one this version does not know: the
			// general decoder handles it as encoding/json would.
			member := append(append(append([]byte("{"), key...), ':'), v...)
			err = json.Unmarshal(append(member, '}'), rc)
		}
	})
	if err != nil {
		return err
	}
	if !ok {
		return json.Unmarshal(line, rc) // for its error
	}
	return nil
}

func (in *rangeInterner) declRange(v []byte) (*Range, error) {
	if string(v) == "null" {
		return nil, nil
	}
	if r, ok := in.decl[string(v)]; ok {
		return r, nil
	}
	r, err := decodeRange(v)
	if err != nil {
		return nil, err
	}
	if in.decl == nil {
		in.decl = map[string]*Range{}
	}
	in.decl[string(v)] = r
	return r, nil
}

// decodeAttrRanges decodes one resource's attribute ranges as json.Unmarshal would.
func decodeAttrRanges(v []byte) (map[string]*Range, error) {
	if string(v) == "null" {
		return nil, nil
	}
	m := map[string]*Range{}
	bad := false
	ok := wholeObject(v, func(key []byte, vStart, vEnd int) {
		name, kok := unquoteKey(key)
		r, rok := fastRange(v[vStart:vEnd])
		bad = bad || !kok || !rok
		m[name] = r
	})
	if !ok || bad {
		m = nil
		if err := json.Unmarshal(v, &m); err != nil { // the general decoder, for its verdict
			return nil, err
		}
	}
	return m, nil
}

// decodeRange decodes a source range as json.Unmarshal would.
func decodeRange(v []byte) (*Range, error) {
	if r, ok := fastRange(v); ok {
		return r, nil
	}
	r := &Range{}
	if err := json.Unmarshal(v, r); err != nil {
		return nil, err
	}
	return r, nil
}

// fastRange reads a range written as fabrica writes them, without reflection, and
// reports false for anything else (which json.Unmarshal then decides).
func fastRange(v []byte) (*Range, bool) {
	r := &Range{}
	ok := true
	whole := wholeObject(v, func(key []byte, vStart, vEnd int) {
		val := v[vStart:vEnd]
		switch string(key) {
		case `"filename"`:
			if len(val) < 2 || val[0] != '"' || !plainASCII(val[1:len(val)-1]) {
				ok = false
				return
			}
			r.Filename = string(val[1 : len(val)-1])
		case `"start"`:
			ok = ok && fastPos(val, &r.Start)
		case `"end"`:
			ok = ok && fastPos(val, &r.End)
		default:
			ok = false
		}
	})
	return r, whole && ok
}

// fastPos reads a position of plain JSON integers, reporting false for anything else.
func fastPos(v []byte, p *Pos) bool {
	ok := true
	whole := wholeObject(v, func(key []byte, vStart, vEnd int) {
		n, isInt := jsonInt(v[vStart:vEnd])
		switch {
		case !isInt:
			ok = false
		case string(key) == `"line"`:
			p.Line = n
		case string(key) == `"column"`:
			p.Column = n
		case string(key) == `"byte"`:
			p.Byte = n
		default:
			ok = false
		}
	})
	return whole && ok
}

// jsonInt parses a JSON number that is a plain integer (no fraction, exponent or
// leading zero).
func jsonInt(b []byte) (int, bool) {
	digits := b
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 15 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if len(digits) < len(b) {
		n = -n
	}
	return n, true
}

// setString sets *dst to a JSON string, leaving it as it is for null (as encoding/json
// does).
func setString(dst *string, v []byte) error {
	if string(v) == "null" {
		return nil
	}
	s, err := decodeString(v)
	if err == nil {
		*dst = s
	}
	return err
}

// decodeString decodes a JSON string (null gives ""); one of printable ASCII without
// escapes, the usual case, is taken as it is.
func decodeString(v []byte) (string, error) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && plainASCII(v[1:len(v)-1]) {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

func plainASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// decodeStrings decodes a JSON list of strings (null gives nil).
func decodeStrings(v []byte) ([]string, error) {
	if string(v) == "null" {
		return nil, nil
	}
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		var out []string
		return out, json.Unmarshal(v, &out) // for its error
	}
	out := []string{}
	for i = skipSpace(v, i+1); i < len(v) && v[i] != ']'; {
		end, ok := skipString(v, i)
		if !ok {
			var out []string
			return out, json.Unmarshal(v, &out)
		}
		s, err := decodeString(v[i:end])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if i = skipSpace(v, end); i < len(v) && v[i] == ',' {
			if i = skipSpace(v, i+1); i < len(v) && v[i] == ']' {
				var out []string
				return out, json.Unmarshal(v, &out) // a comma before ]: for its error
			}
		} else if i >= len(v) || v[i] != ']' {
			var out []string
			return out, json.Unmarshal(v, &out)
		}
	}
	return out, nil
}

// decodeRaw returns a raw JSON value as it is, after checking it is valid JSON.
func decodeRaw(v []byte) (json.RawMessage, error) {
	if !json.Valid(v) {
		var m json.RawMessage
		return nil, json.Unmarshal(v, &m) // for its error
	}
	return json.RawMessage(v), nil
}
