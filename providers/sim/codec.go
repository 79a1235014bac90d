package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"strconv"
	"sync/atomic"
)

// The world file is one JSON document, but written one object per line with the keys of
// each line sorted, so that loading can split it into lines and each line into fields
// (splitCanonical), on every CPU, instead of decoding 100,000 objects by reflection.
// A file in any other layout (edited by hand) is read with encoding/json.

// encode returns the world file's bytes for the next serial: one object per line, in
// creation order, so the file reads and diffs well. The serial comes first, so that
// readSerial finds it in the first bytes.
func (w *world) encode() []byte {
	objs := w.sorted()
	w.mu.Lock()
	w.serial++
	head := fmt.Sprintf(`{"format_version":%d,"serial":%d,"next_id":%d,"applies":%d,"objects":[`,
		formatVersion, w.serial, w.nextID, w.applies)
	w.mu.Unlock()
	buf := bytes.NewBuffer(make([]byte, 0, len(head)+len(objs)*256+len(trailerStart)+20))
	buf.WriteString(head)
	start := buf.Len()
	var line []byte
	for i, o := range objs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		line = o.appendJSON(line[:0])
		buf.Write(line)
	}
	fmt.Fprintf(buf, "\n%s%08x\"}\n", trailerStart, crc32.Checksum(buf.Bytes()[start:], castagnoli))
	return buf.Bytes()
}

// The last line of a world file carries a checksum (CRC-32C) of the object lines,
// from the newline after the first line to the one before the last: when it matches,
// loading need not hash every object's attributes again to prove them intact (50 MB
// of FNV for 100,000 servers, the most of a load). A file without it (written before
// it was added) or whose lines were edited is verified object by object.
const trailerStart = `],"objects_crc32c":"`

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// trailerSum returns the checksum that the last line of a world file carries, and false
// when the line is not a trailer that encode writes.
func trailerSum(last []byte) (uint32, bool) {
	sum, ok := bytes.CutPrefix(last, []byte(trailerStart))
	if !ok || len(sum) != 10 || !bytes.HasSuffix(sum, []byte(`"}`)) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(sum[:8]), 16, 32)
	return uint32(v), err == nil
}

// appendJSON appends the object as one canonical JSON line: keys sorted, compact.
func (o *Object) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"address":`...)
	dst = appendString(dst, o.Address)
	dst = append(dst, `,"attrs":`...)
	dst = append(dst, o.Attrs...)
	if o.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = appendString(dst, o.Hash)
	}
	dst = append(dst, `,"id":`...)
	dst = appendString(dst, o.ID)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, o.Kind)
	return append(dst, '}')
}

// decodeFast reads a world file in the layout encode writes, reporting false for any
// other layout. The document is intact when its checksum proves the object lines are
// as written.
func decodeFast(data []byte) (*worldDoc, bool) {
	lines := bytes.Split(data, []byte("\n"))
	for len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 {
		return nil, false
	}
	doc := &worldDoc{}
	if last := lines[len(lines)-1]; string(last) != "]}" {
		sum, ok := trailerSum(last)
		if !ok {
			return nil, false
		}
		end := len(bytes.TrimRight(data, "\n")) - len(last) - 1 // the newline before the last line
		doc.intact = sum == crc32.Checksum(data[len(lines[0]):end], castagnoli)
	}
	head := append(bytes.Clone(lines[0]), "]}"...)
	if !bytes.HasSuffix(lines[0], []byte(`"objects":[`)) || json.Unmarshal(head, doc) != nil {
		return nil, false
	}
	lines = lines[1 : len(lines)-1]
	doc.Objects = make([]*Object, len(lines))
	var bad atomic.Bool
	forChunks(len(lines), 4096, func(lo, hi int) {
		for i := lo; i < hi && !bad.Load(); i++ {
			line := lines[i]
			if i < len(lines)-1 {
				line = bytes.TrimSuffix(line, []byte(","))
			}
			o, ok := parseObjectLine(line)
			if !ok {
				bad.Store(true)
			}
			doc.Objects[i] = o
		}
	})
	return doc, !bad.Load()
}

// objectKeys are the keys of an object line, in order.
var objectKeys = [...]string{"address", "attrs", "hash", "id", "kind"}

// parseObjectLine reads one line that appendJSON wrote.
func parseObjectLine(line []byte) (*Object, bool) {
	if o, ok := parseObjectEnds(line); ok {
		return o, true
	}
	var buf [len(objectKeys)]field
	fs, ok := splitCanonical(buf[:0], line)
	if !ok || len(fs) != len(objectKeys) {
		return nil, false
	}
	var strs [len(objectKeys)]string
	for i, f := range fs {
		if string(f.key) != objectKeys[i] {
			return nil, false
		}
		if i == 1 {
			continue // attrs
		}
		if strs[i], ok = plainString(f.val); !ok {
			return nil, false
		}
	}
	if fs[1].val[0] != '{' {
		return nil, false
	}
	return &Object{Address: strs[0], Attrs: fs[1].val, Hash: strs[2], ID: strs[3], Kind: strs[4]}, true
}

// plainString returns the JSON string v when it has no escapes.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	return string(v[1 : len(v)-1]), true
}

// parseObjectEnds reads a line that appendJSON wrote with a hash, from its ends: the
// address from the start, the hash, id and kind from the end, and the attributes as
// what lies between, without scanning them (they are most of a 50 MB world). Their
// hash, checked when the world is decoded (Object.rehash), is what proves them intact:
// an edited line has attributes that no longer match it, which are then parsed and
// checked as JSON. Anything it does not recognise reports false.
func parseObjectEnds(line []byte) (*Object, bool) {
	const addrKey, attrsKey = `{"address":"`, `","attrs":`
	if !bytes.HasPrefix(line, []byte(addrKey)) {
		return nil, false
	}
	rest := line[len(addrKey):]
	q := bytes.IndexByte(rest, '"')
	if q < 0 || !bytes.HasPrefix(rest[q:], []byte(attrsKey)) {
		return nil, false
	}
	addr := rest[:q]
	attrs := rest[q+len(attrsKey):]
	var tail [3][]byte
	for i, key := range [...]string{`,"kind":"`, `,"id":"`, `,"hash":"`} {
		k := bytes.LastIndex(attrs, []byte(key))
		if k < 0 {
			return nil, false
		}
		tail[i], attrs = attrs[k+len(key):], attrs[:k]
	}
	kind, id, hash := tail[0], tail[1], tail[2]
	if !bytes.HasSuffix(kind, []byte(`"}`)) || !bytes.HasSuffix(id, []byte(`"`)) || !bytes.HasSuffix(hash, []byte(`"`)) {
		return nil, false
	}
	kind, id, hash = kind[:len(kind)-2], id[:len(id)-1], hash[:len(hash)-1]
	for _, f := range [...][]byte{addr, kind, id, hash} {
		if bytes.ContainsAny(f, `\"`) {
			return nil, false
		}
	}
	if len(attrs) < 2 || attrs[0] != '{' || attrs[len(attrs)-1] != '}' || len(kind) == 0 || len(id) == 0 || len(hash) == 0 {
		return nil, false
	}
	return &Object{Address: string(addr), Attrs: attrs[:len(attrs):len(attrs)], Hash: string(hash), ID: string(id), Kind: string(kind)}, true
}
