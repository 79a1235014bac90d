package statefile

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strconv"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// The journal is a file of records, one a line, appended as apply completes each
// resource instance:
//
//	1c2a9f0e {"op":"open","format_version":1,"lineage":"…","base_serial":7}
//	5e01b7c4 {"op":"put","instance":{"address":"hardware.node[0]",…}}
//	0b3dd2a1 {"op":"remove","address":"hardware.node[9]"}
//
// Each line starts with the CRC-32C of its JSON in 8 hex digits. A line that is
// incomplete or whose CRC does not match is where a crash interrupted the writer: it
// and everything after it are ignored. An "open" record starts each session of
// appends and names the stored state the records apply to.

// JournalOp is the kind of a journal record.
type JournalOp uint8

// Journal record kinds.
const (
	JournalInvalid JournalOp = iota
	// JournalOpen starts a session: Lineage and BaseSerial name the stored state the
	// records that follow apply to.
	JournalOpen
	// JournalPut records Instance.
	JournalPut
	// JournalRemove records that Address is gone.
	JournalRemove
)

var opNames = [...]string{JournalOpen: "open", JournalPut: "put", JournalRemove: "remove"}

func (o JournalOp) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "invalid"
}

// JournalRecord is one record of a journal.
type JournalRecord struct {
	// Op says which of the fields below are set.
	Op JournalOp
	// Lineage and BaseSerial are set for JournalOpen.
	Lineage    string
	BaseSerial uint64
	// Instance is set for JournalPut.
	Instance *states.Instance
	// Address is set for JournalRemove.
	Address string
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendJournalRecord appends r as one line.
func AppendJournalRecord(b []byte, r *JournalRecord) ([]byte, error) {
	start := len(b)
	b = append(b, "00000000 "...)
	payload := len(b)
	switch r.Op {
	case JournalOpen:
		b = append(b, `{"op":"open","format_version":`...)
		b = strconv.AppendInt(b, currentVersion, 10)
		b = append(b, `,"lineage":`...)
		b = appendString(b, r.Lineage)
		b = append(b, `,"base_serial":`...)
		b = strconv.AppendUint(b, r.BaseSerial, 10)
	case JournalPut:
		b = append(b, `{"op":"put","instance":`...)
		var err error
		if b, err = appendInstance(b, r.Instance); err != nil {
			return b[:start], err
		}
	case JournalRemove:
		b = append(b, `{"op":"remove","address":`...)
		b = appendString(b, r.Address)
	default:
		return b[:start], fmt.Errorf("invalid journal record %v", r.Op)
	}
	b = append(b, '}')
	putCRC(b[start:start+8], b[payload:])
	return append(b, '\n'), nil
}

// ScanJournal calls fn with each record of data in order, and returns the length of
// the intact prefix: where the first incomplete or damaged line starts, or len(data).
// A line whose CRC matches but that is not a valid record is an error (a journal from
// a newer fabrica gives a *VersionError). fn's error stops the scan and is returned.
func ScanJournal(data []byte, fn func(*JournalRecord) error) (int, error) {
	off, line := 0, 1
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return off, nil // a torn last line
		}
		ln := data[off : off+nl]
		if len(ln) < 10 || ln[8] != ' ' {
			return off, nil
		}
		var sum [4]byte
		if _, err := hex.Decode(sum[:], ln[:8]); err != nil {
			return off, nil
		}
		want := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
		if crc32.Checksum(ln[9:], castagnoli) != want {
			return off, nil
		}
		r, err := parseRecord(ln[9:])
		if err != nil {
			if e, ok := err.(*Error); ok {
				return off, fmt.Errorf("journal line %d: %s", line, e.Msg)
			}
			return off, err
		}
		if err := fn(r); err != nil {
			return off, err
		}
		off += nl + 1
		line++
	}
	return off, nil
}

// parseRecord decodes the JSON of one record.
func parseRecord(data []byte) (*JournalRecord, error) {
	p := &parser{scanner: scanner{data: data}}
	r := &JournalRecord{}
	var op string
	ok := p.members(func(k []byte, keyAt int) bool {
		var ok bool
		switch string(k) {
		case "op":
			op, ok = p.text()
		case "format_version":
			var v uint64
			if v, ok = p.uint("format_version"); ok && v > currentVersion {
				p.verr = &VersionError{Version: int(min(v, 1<<30))}
				return false
			}
		case "lineage":
			r.Lineage, ok = p.text()
		case "base_serial":
			r.BaseSerial, ok = p.uint("base_serial")
		case "instance":
			r.Instance = &states.Instance{}
			ok = p.instance(r.Instance)
		case "address":
			r.Address, ok = p.text()
		default:
			return p.fail(keyAt, "unknown field %q in a journal record", k)
		}
		return ok
	})
	if ok && p.peek() != 0 {
		ok = p.failHere("the end of the record")
	}
	switch {
	case p.verr != nil:
		return nil, p.verr
	case !ok:
		return nil, p.err
	}
	switch op {
	case "open":
		r.Op = JournalOpen
		ok = r.Lineage != ""
	case "put":
		r.Op = JournalPut
		ok = r.Instance != nil
	case "remove":
		r.Op = JournalRemove
		ok = r.Address != ""
	default:
		return nil, &Error{Msg: fmt.Sprintf("unknown journal operation %q", op)}
	}
	if !ok {
		return nil, &Error{Msg: fmt.Sprintf("incomplete %q record", op)}
	}
	return r, nil
}

// putCRC writes the CRC-32C of payload into dst as 8 hex digits.
func putCRC(dst, payload []byte) {
	crc := crc32.Checksum(payload, castagnoli)
	sum := [4]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)}
	hex.Encode(dst, sum[:])
}
