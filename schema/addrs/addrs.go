// Package addrs names things in a fabrica configuration: resources
// (`hardware.gpu`) and their instances (`hardware.gpu[3]`, `fabric.ib["east"]`).
// Addresses are small comparable values, so they can key maps of 100,000 instances.
package addrs

import (
	"fmt"
	"strconv"
	"strings"
)

// Resource names a resource block: its kind and name.
type Resource struct {
	Kind string
	Name string
}

func (r Resource) String() string { return r.Kind + "." + r.Name }

// Instance returns the address of one instance of r.
func (r Resource) Instance(k Key) Instance { return Instance{Resource: r, Key: k} }

// KeyType says how a resource's instances are keyed.
type KeyType int

const (
	// NoKey is a resource without count or for_each: one instance, no key.
	NoKey KeyType = iota
	// IntKey is a counted instance: hardware.gpu[3].
	IntKey
	// StringKey is a for_each instance: fabric.ib["east"].
	StringKey
)

// Key identifies one instance of a resource.
type Key struct {
	Type KeyType
	Int  int
	Str  string
}

// IntKeyOf returns a count key.
func IntKeyOf(i int) Key { return Key{Type: IntKey, Int: i} }

// StringKeyOf returns a for_each key.
func StringKeyOf(s string) Key { return Key{Type: StringKey, Str: s} }

func (k Key) String() string {
	switch k.Type {
	case IntKey:
		return "[" + strconv.Itoa(k.Int) + "]"
	case StringKey:
		return "[" + strconv.Quote(k.Str) + "]"
	}
	return ""
}

// Instance names one resource instance.
type Instance struct {
	Resource
	Key Key
}

func (i Instance) String() string {
	if i.Key.Type == NoKey {
		return i.Resource.String()
	}
	var b strings.Builder
	b.Grow(len(i.Kind) + len(i.Name) + 8)
	b.WriteString(i.Kind)
	b.WriteByte('.')
	b.WriteString(i.Name)
	b.WriteString(i.Key.String())
	return b.String()
}

// ParseInstance parses "kind.name", "kind.name[3]" or `kind.name["key"]`.
func ParseInstance(s string) (Instance, error) {
	var inst Instance
	rest := s
	if i := strings.IndexByte(rest, '['); i >= 0 {
		if !strings.HasSuffix(rest, "]") {
			return inst, fmt.Errorf("invalid address %q: an index must end with ]", s)
		}
		keyText := rest[i+1 : len(rest)-1]
		rest = rest[:i]
		switch {
		case strings.HasPrefix(keyText, `"`):
			str, err := strconv.Unquote(keyText)
			if err != nil {
				return inst, fmt.Errorf("invalid address %q: the key %s is not a valid quoted string", s, keyText)
			}
			inst.Key = StringKeyOf(str)
		default:
			n, err := strconv.Atoi(keyText)
			if err != nil || n < 0 {
				return inst, fmt.Errorf("invalid address %q: an index must be a non-negative number or a quoted string", s)
			}
			inst.Key = IntKeyOf(n)
		}
	}
	kind, name, ok := strings.Cut(rest, ".")
	if !ok || kind == "" || name == "" || strings.Contains(name, ".") {
		return inst, fmt.Errorf("invalid address %q: expected KIND.NAME, KIND.NAME[INDEX] or KIND.NAME[\"KEY\"]", s)
	}
	inst.Kind, inst.Name = kind, name
	return inst, nil
}
