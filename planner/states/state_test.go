package states

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func inst(addr string) *Instance {
	kind, _, _ := strings.Cut(addr, ".")
	return &Instance{Address: addr, Kind: kind, Provider: "sim", Attrs: json.RawMessage(`{"a":1}`)}
}

func TestState_putGetRemove(t *testing.T) {
	s := NewState()
	for _, a := range []string{"hardware.node[10]", "hardware.node[2]", "facility.dc", "hardware.node[1]"} {
		s.Put(inst(a))
	}
	if got := s.Len(); got != 4 {
		t.Fatalf("Len = %d, want 4", got)
	}
	want := []string{"facility.dc", "hardware.node[1]", "hardware.node[2]", "hardware.node[10]"}
	if diff := cmp.Diff(want, s.Addresses()); diff != "" {
		t.Errorf("Addresses (-want +got):\n%s", diff)
	}
	repl := inst("hardware.node[2]")
	repl.ID = "new"
	s.Put(repl)
	if s.Len() != 4 || s.Get("hardware.node[2]").ID != "new" {
		t.Errorf("Put did not replace: len %d, id %q", s.Len(), s.Get("hardware.node[2]").ID)
	}
	if err := s.Remove("hardware.node[2]"); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("hardware.node[2]"); err == nil || !strings.Contains(err.Error(), "no resource instance hardware.node[2]") {
		t.Errorf("second Remove: got %v, want a not-found error", err)
	}
	if s.Get("hardware.node[2]") != nil {
		t.Error("Get after Remove returned an instance")
	}
	s.Put(inst("hardware.node[2]")) // removed, then added again
	s.Put(inst("hardware.node[0]"))
	want = []string{"facility.dc", "hardware.node[0]", "hardware.node[1]", "hardware.node[2]", "hardware.node[10]"}
	if diff := cmp.Diff(want, s.Addresses()); diff != "" {
		t.Errorf("Addresses after changes (-want +got):\n%s", diff)
	}
	var got []string
	for i := range s.Instances() {
		got = append(got, i.Address)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Instances (-want +got):\n%s", diff)
	}
	for _, a := range want {
		if s.Get(a) == nil || s.Get(a).Address != a {
			t.Errorf("Get(%s) after sorting = %v", a, s.Get(a))
		}
	}
}

func TestState_move(t *testing.T) {
	tests := []struct {
		name, from, to, wantErr string
	}{
		{"missing source", "hardware.gone", "hardware.x", "cannot move hardware.gone: no such resource instance"},
		{"existing destination", "hardware.a", "hardware.b", "hardware.b already exists"},
		{"kind mismatch", "hardware.a", "fabric.a", "the destination is a fabric, the instance is a hardware"},
		{"invalid address", "hardware.a", "nonsense", "invalid address"},
		{"to an index", "hardware.a", "hardware.c[3]", ""},
		{"same address", "hardware.a", "hardware.a", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewState()
			s.Put(inst("hardware.a"))
			s.Put(inst("hardware.b"))
			err := s.Move(tt.from, tt.to)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Move error = %v, want one containing %q", err, tt.wantErr)
				}
				if diff := cmp.Diff([]string{"hardware.a", "hardware.b"}, s.Addresses()); diff != "" {
					t.Errorf("a failed Move changed the state (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Get(tt.to); got == nil || got.Address != tt.to {
				t.Fatalf("Get(%s) = %v after the move", tt.to, got)
			}
			if tt.from != tt.to && s.Get(tt.from) != nil {
				t.Errorf("%s still present after the move", tt.from)
			}
			want := []string{"hardware.a", "hardware.b"}
			if tt.from != tt.to {
				want = []string{"hardware.b", tt.to}
			}
			if diff := cmp.Diff(want, s.Addresses()); diff != "" {
				t.Errorf("Addresses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestState_deepCopy(t *testing.T) {
	s := NewState()
	s.Serial = 4
	s.Outputs = map[string]json.RawMessage{"x": json.RawMessage(`1`)}
	a := inst("hardware.a")
	a.Dependencies = []string{"facility.dc"}
	s.Put(a)
	c := s.DeepCopy()
	if !c.SameContent(s) || c.Serial != 4 || c.Lineage != s.Lineage {
		t.Fatal("copy differs from the original")
	}
	c.Get("hardware.a").Dependencies[0] = "changed"
	c.Get("hardware.a").ID = "changed"
	c.Put(inst("hardware.b"))
	c.Outputs["y"] = json.RawMessage(`2`)
	if a.Dependencies[0] != "facility.dc" || a.ID != "" || s.Len() != 1 || len(s.Outputs) != 1 {
		t.Error("changing the copy changed the original")
	}
	if s.SameContent(c) {
		t.Error("SameContent is true for different states")
	}
}

func TestCompareAddresses(t *testing.T) {
	sorted := []string{
		"fabric.ib",
		"hardware.node",
		"hardware.node2",
		"hardware.node10",
		`hardware.node["a"]`,
		"hardware.node[0]",
		"hardware.node[02]", // equal in value to [2]: plain string order decides
		"hardware.node[2]",
		"hardware.node[10]",
	}
	shuffled := slices.Clone(sorted)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, CompareAddresses)
	if diff := cmp.Diff(sorted, shuffled); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	for _, a := range sorted {
		if CompareAddresses(a, a) != 0 {
			t.Errorf("CompareAddresses(%q, itself) != 0", a)
		}
	}
}

func TestNewLineage(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := NewLineage(), NewLineage()
	if !re.MatchString(a) || a == b {
		t.Errorf("NewLineage = %q, %q: want two different version 4 UUIDs", a, b)
	}
	if s := NewState(); s.Lineage == "" || s.Serial != 0 || s.Len() != 0 {
		t.Errorf("NewState = %+v", s)
	}
}

func TestCheckPush(t *testing.T) {
	cur := NewState()
	cur.Serial = 5
	cur.Put(inst("hardware.a"))
	same := cur.DeepCopy()
	newer := cur.DeepCopy()
	newer.Serial = 6
	older := cur.DeepCopy()
	older.Serial = 4
	sameSerialDiff := cur.DeepCopy()
	sameSerialDiff.Put(inst("hardware.b"))
	other := NewState()
	other.Serial = 9
	tests := []struct {
		name     string
		cur, in  *State
		force    bool
		wantErr  string
		forceErr bool
	}{
		{"newer serial", cur, newer, false, "", false},
		{"identical", cur, same, false, "", false},
		{"older serial", cur, older, false, "older than the stored state's serial 5", false},
		{"other lineage", cur, other, false, "they are different states", false},
		{"same serial, different content", cur, sameSerialDiff, false, "different content", false},
		{"older serial forced", cur, older, true, "", false},
		{"other lineage forced", cur, other, true, "", false},
		{"nothing stored", &State{}, other, false, "", false},
		{"no state", cur, nil, true, "no state given", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPush(tt.cur, tt.in, tt.force)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPush = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CheckPush = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLockedError(t *testing.T) {
	e := &LockedError{Info: LockInfo{ID: "1234", Who: "ana@build1", Operation: "apply",
		Created: time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)}}
	want := "state is locked by ana@build1 since 2026-03-01T12:30:00Z, lock id 1234 (operation apply)"
	if e.Error() != want {
		t.Errorf("message = %q, want %q", e.Error(), want)
	}
	info := NewLockInfo("plan")
	if info.ID == "" || !strings.Contains(info.Who, "@") && info.Who == "" || info.Operation != "plan" || info.Created.IsZero() || info.PID == 0 {
		t.Errorf("NewLockInfo = %+v", info)
	}
}

// Skipping the common prefix never changes the order: CompareAddresses agrees with the
// comparison from the first byte.
func FuzzCompareAddresses(f *testing.F) {
	for _, p := range [][2]string{
		{"hardware.r000001[3]", "hardware.r000001[12]"}, {"hardware.r1[0]", "hardware.r01[0]"},
		{"a[10]", "a[9]"}, {"a[009]", "a[9]"}, {"x12y", "x12"}, {"", "a"}, {"a1b", "a1b"},
		{"fabric.f001_p01", "fabric.f001_p1"}, {"n[100]", "n[99]"},
	} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		got, want := CompareAddresses(a, b), compareAddressesFrom(a, b, 0)
		if got != want {
			t.Fatalf("CompareAddresses(%q, %q) = %d, from the start %d", a, b, got, want)
		}
		if back := CompareAddresses(b, a); back != -got {
			t.Fatalf("CompareAddresses(%q, %q) = %d but reversed %d", a, b, got, back)
		}
	})
}
