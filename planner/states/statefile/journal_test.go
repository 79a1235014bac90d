package statefile

import (
	"errors"
	"strings"
	"testing"

	"github.com/fabrica-iac/fabrica/planner/states"
)

func journalBytes(t *testing.T) []byte {
	t.Helper()
	s := sample()
	var b []byte
	var err error
	recs := []*JournalRecord{
		{Op: JournalOpen, Lineage: s.Lineage, BaseSerial: 7},
		{Op: JournalPut, Instance: s.Get("hardware.node[10]")},
		{Op: JournalRemove, Address: "hardware.node[2]"},
		{Op: JournalPut, Instance: s.Get("facility.dc")},
	}
	for _, r := range recs {
		if b, err = AppendJournalRecord(b, r); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func scanAll(t *testing.T, data []byte) ([]*JournalRecord, int, error) {
	t.Helper()
	var got []*JournalRecord
	n, err := ScanJournal(data, func(r *JournalRecord) error {
		got = append(got, r)
		return nil
	})
	return got, n, err
}

func TestJournal_roundTrip(t *testing.T) {
	data := journalBytes(t)
	if c := strings.Count(string(data), "\n"); c != 4 {
		t.Fatalf("%d lines, want 4:\n%s", c, data)
	}
	got, n, err := scanAll(t, data)
	if err != nil || n != len(data) || len(got) != 4 {
		t.Fatalf("ScanJournal = %d records, %d/%d bytes, %v", len(got), n, len(data), err)
	}
	want := sample().Get("hardware.node[10]")
	if got[0].Op != JournalOpen || got[0].BaseSerial != 7 || got[0].Lineage != sample().Lineage {
		t.Errorf("open record = %+v", got[0])
	}
	if got[1].Op != JournalPut || !got[1].Instance.Equal(want) {
		t.Errorf("put record = %+v", got[1].Instance)
	}
	if got[2].Op != JournalRemove || got[2].Address != "hardware.node[2]" {
		t.Errorf("remove record = %+v", got[2])
	}
}

func TestJournal_tornAndDamaged(t *testing.T) {
	data := journalBytes(t)
	lines := strings.SplitAfter(string(data), "\n")
	intact := len(lines[0]) + len(lines[1]) + len(lines[2])
	tests := []struct {
		name string
		data string
	}{
		{"truncated last line", string(data[:len(data)-10])},
		{"last line without newline", string(data[:len(data)-1])},
		{"crc mismatch", lines[0] + lines[1] + lines[2] + strings.Replace(lines[3], "facility", "fakility", 1)},
		{"zeros after", lines[0] + lines[1] + lines[2] + strings.Repeat("\x00", 100)},
		{"garbage after", lines[0] + lines[1] + lines[2] + "garbage\n" + lines[3]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := scanAll(t, []byte(tt.data))
			if err != nil || len(got) != 3 || n != intact {
				t.Errorf("ScanJournal = %d records, intact %d (want %d), %v", len(got), n, intact, err)
			}
		})
	}
}

func TestJournal_invalidRecord(t *testing.T) {
	// A line with a good CRC that is not a record is a bug or a newer fabrica: an error.
	line := func(json string) []byte {
		b, _ := AppendJournalRecord(nil, &JournalRecord{Op: JournalRemove, Address: "x"})
		b = append(b[:9], json...)
		putCRC(b[:8], []byte(json))
		return append(b, '\n')
	}
	if _, _, err := scanAll(t, line(`{"op":"rename","address":"x"}`)); err == nil || !strings.Contains(err.Error(), "unknown journal operation") {
		t.Errorf("unknown op: %v", err)
	}
	_, _, err := scanAll(t, line(`{"op":"open","format_version":9,"lineage":"l","base_serial":1}`))
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Version != 9 {
		t.Errorf("newer journal: %v", err)
	}
	if _, err := AppendJournalRecord(nil, &JournalRecord{Op: JournalPut, Instance: &states.Instance{Address: "a.b"}}); err == nil {
		t.Error("a put of an instance without kind succeeded")
	}
}
