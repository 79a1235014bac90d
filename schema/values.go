package schema

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// unitScales maps each base unit to the units a string value may be written in, with the
// factor that converts them to the base unit.
var unitScales = map[string]map[string]float64{
	"kW":      {"w": 0.001, "kw": 1, "mw": 1000},
	"W":       {"w": 1, "kw": 1000},
	"MW":      {"kw": 0.001, "mw": 1},
	"Gbps":    {"mbps": 0.001, "gbps": 1, "gb/s": 8, "tbps": 1000},
	"TB":      {"gb": 0.001, "tb": 1, "pb": 1000},
	"GB":      {"mb": 0.001, "gb": 1, "tb": 1000},
	"minutes": {"s": 1.0 / 60, "min": 1, "minutes": 1, "m": 1, "h": 60, "hours": 60},
	"hours":   {"min": 1.0 / 60, "minutes": 1.0 / 60, "h": 1, "hours": 1, "d": 24, "days": 24},
	"days":    {"h": 1.0 / 24, "hours": 1.0 / 24, "d": 1, "days": 1},
	"km":      {"m": 0.001, "km": 1},
	"TB/day":  {"tb/day": 1, "gb/day": 0.001, "tb/h": 24},
}

// DecodeArg converts an evaluated argument value to the argument's type, resolving
// references to addresses and string quantities ("50 kW", "2 MW") to the argument's unit,
// then checks allowed values and bounds. It never panics on any input value.
func DecodeArg(a *Attr, v cty.Value, rng hcl.Range) (cty.Value, diag.Diagnostics) {
	// A list of references is checked element by element as it is decoded: walking a
	// fabric's thousands of endpoints once more just to see they are known costs more.
	if refList := a.Ref != "" && v.IsKnown() && !v.IsNull() && isSequence(v.Type()); !refList && !v.IsWhollyKnown() {
		return v, nil
	}
	if v.IsNull() {
		if a.Required {
			return v, diag.Diagnostics{diag.Errorf(rng, "Missing required argument",
				"The argument %q is required, but its value is null.", a.Name)}
		}
		return a.Default, nil
	}
	if a.Ref != "" {
		orig := v
		v, _ = v.Unmark()
		dv, known, d := decodeRef(a, v, rng)
		if !known || (len(d) > 0 && !v.IsWhollyKnown()) {
			return orig, nil // judged once all of it is known, as any other argument
		}
		return dv, d
	}
	v, _ = v.Unmark()
	if a.Type == cty.Number && v.Type() == cty.String {
		return decodeQuantity(a, v.AsString(), rng)
	}
	conv, err := convert.Convert(v, a.Type)
	if err != nil {
		return v, diag.Diagnostics{diag.Errorf(rng, "Incorrect argument type",
			"%s must be %s%s: %s.", a.Name, describeType(a.Type), unitHint(a), err)}
	}
	return conv, checkValue(a, conv, rng)
}

func describeType(t cty.Type) string {
	switch {
	case t == cty.Number:
		return "a number"
	case t == cty.String:
		return "a string"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list of " + strings.TrimPrefix(describeType(t.ElementType()), "a ") + "s"
	case t.IsMapType():
		return "a map of " + strings.TrimPrefix(describeType(t.ElementType()), "a ") + "s"
	}
	return t.FriendlyName()
}

func unitHint(a *Attr) string {
	if u := a.Unit(); u != "" {
		return " in " + u + ` (as the name's suffix says), such as 40 or "40 ` + u + `"`
	}
	return ""
}

func decodeQuantity(a *Attr, s string, rng hcl.Range) (cty.Value, diag.Diagnostics) {
	unit := a.Unit()
	text := strings.TrimSpace(s)
	i := strings.IndexFunc(text, func(r rune) bool { return !(r >= '0' && r <= '9' || r == '.' || r == '-' || r == '+') })
	numText, unitText := text, ""
	if i >= 0 {
		numText, unitText = strings.TrimSpace(text[:i]), strings.ToLower(strings.TrimSpace(text[i:]))
	}
	f, err := strconv.ParseFloat(numText, 64)
	if err != nil {
		return cty.NilVal, diag.Diagnostics{diag.Errorf(rng, "Incorrect argument type",
			"%s must be a number%s; %q is not a number.", a.Name, unitHint(a), s)}
	}
	if unitText != "" {
		scale, ok := unitScales[unit][unitText]
		if !ok {
			return cty.NilVal, diag.Diagnostics{diag.Errorf(rng, "Wrong unit",
				"%s is measured in %s, and %q cannot be converted to %s. %s", a.Name, orNone(unit), s, orNone(unit), acceptedUnits(unit))}
		}
		f *= scale
	}
	v := cty.NumberVal(new(big.Float).SetFloat64(f))
	return v, checkValue(a, v, rng)
}

func orNone(u string) string {
	if u == "" {
		return "plain numbers"
	}
	return u
}

func acceptedUnits(unit string) string {
	scales := unitScales[unit]
	if len(scales) == 0 {
		return "Write a plain number."
	}
	names := make([]string, 0, len(scales))
	for n := range scales {
		names = append(names, n)
	}
	sortStrings(names)
	return fmt.Sprintf("Write a plain number in %s, or a string with one of these units: %s.", unit, strings.Join(names, ", "))
}

func checkValue(a *Attr, v cty.Value, rng hcl.Range) diag.Diagnostics {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	switch {
	case a.Type == cty.String && len(a.Enum) > 0:
		s := v.AsString()
		for _, e := range a.Enum {
			if s == e {
				return nil
			}
		}
		hint := ""
		if sug := nameSuggestion(s, a.Enum); sug != "" {
			hint = fmt.Sprintf(" Did you mean %q?", sug)
		}
		return diag.Diagnostics{diag.Errorf(rng, "Invalid value for "+a.Name,
			"%q is not a valid %s. Use one of: %s.%s", s, a.Name, quoteList(a.Enum), hint)}
	case a.Type == cty.String && a.Word:
		s := v.AsString()
		if s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return diag.Diagnostics{diag.Errorf(rng, "Invalid value for "+a.Name,
				"%s must be one word, as the scheduler names it (such as \"gpu\"); %q has spaces or control characters, or is empty.", a.Name, s)}
		}
	case a.Type == cty.Number:
		if v.AsBigFloat().IsInf() {
			return diag.Diagnostics{diag.Errorf(rng, "Invalid value for "+a.Name,
				"%s must be a finite number; the expression gives %s, often from a division by zero.", a.Name, v.AsBigFloat().Text('g', -1))}
		}
		f, _ := v.AsBigFloat().Float64()
		if a.Int && !v.AsBigFloat().IsInt() {
			return diag.Diagnostics{diag.Errorf(rng, "Invalid value for "+a.Name,
				"%s must be a whole number; got %s.", a.Name, strconv.FormatFloat(f, 'f', -1, 64))}
		}
		if (a.Min != nil && f < *a.Min) || (a.Max != nil && f > *a.Max) {
			return diag.Diagnostics{diag.Errorf(rng, "Value out of range",
				"%s must be %s; got %s.", a.Name, describeBounds(a), strconv.FormatFloat(f, 'f', -1, 64))}
		}
	}
	return nil
}

func describeBounds(a *Attr) string {
	fmtF := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch {
	case a.Min != nil && a.Max != nil:
		return "between " + fmtF(*a.Min) + " and " + fmtF(*a.Max)
	case a.Min != nil:
		return "at least " + fmtF(*a.Min)
	default:
		return "at most " + fmtF(*a.Max)
	}
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// decodeRef turns a reference argument into an address string (or list of them), and
// checks the kind of what it refers to. It reports known false, and nothing else, when a
// list holds an element not yet known.
func decodeRef(a *Attr, v cty.Value, rng hcl.Range) (_ cty.Value, known bool, _ diag.Diagnostics) {
	if a.Type == cty.String || !isSequence(v.Type()) {
		// (A single instance is accepted where a list is expected.)
		addr, d := refAddress(a, v, rng)
		if d != nil {
			return cty.NilVal, true, diag.Diagnostics{*d}
		}
		if a.Type == cty.String {
			return cty.StringVal(addr), true, nil
		}
		return cty.ListVal([]cty.Value{cty.StringVal(addr)}), true, nil
	}
	if v.LengthInt() == 0 {
		return cty.ListValEmpty(cty.String), true, nil
	}
	out := make([]cty.Value, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.IsWhollyKnown() {
			return cty.NilVal, false, nil
		}
		addr, d := refAddress(a, e, rng)
		if d != nil {
			return cty.NilVal, true, diag.Diagnostics{*d}
		}
		if e.Type() != cty.String {
			e = cty.StringVal(addr) // an instance object: its address
		}
		out = append(out, e)
	}
	return cty.ListVal(out), true, nil
}

func isSequence(t cty.Type) bool { return t.IsListType() || t.IsTupleType() || t.IsSetType() }

func refAddress(a *Attr, v cty.Value, rng hcl.Range) (string, *diag.Diagnostic) {
	var addr string
	switch {
	case v.IsNull():
		d := diag.Errorf(rng, "Invalid reference", "%s holds a null element; it must refer to %s resources.", a.Name, a.Ref)
		return "", &d
	case v.Type().IsObjectType() && v.Type().HasAttribute(AddressAttr):
		addr = asString(v.GetAttr(AddressAttr))
	case v.Type() == cty.String:
		addr = v.AsString()
	default:
		d := diag.Errorf(rng, "Invalid reference",
			"%s must refer to a %s resource, such as %s = %s.example; got %s.%s", a.Name, a.Ref, a.Name, a.Ref, v.Type().FriendlyName(), mapRefHint(a, v.Type()))
		return "", &d
	}
	inst, err := addrs.ParseInstance(addr)
	if err != nil {
		d := diag.Errorf(rng, "Invalid reference", "%s must refer to a %s resource: %s.", a.Name, a.Ref, err)
		return "", &d
	}
	if inst.Kind != a.Ref {
		d := diag.Errorf(rng, "Reference to the wrong kind of resource",
			"%s must refer to a %s, but %s is a %s.", a.Name, a.Ref, addr, inst.Kind)
		return "", &d
	}
	return addr, nil
}

// mapRefHint explains how to use a resource with for_each, whose value is a map of
// instances, where a reference is expected.
func mapRefHint(a *Attr, t cty.Type) string {
	if !t.IsObjectType() && !t.IsMapType() {
		return ""
	}
	if a.Type.IsListType() {
		return fmt.Sprintf(" A resource with for_each is a map of instances; list them with values(), such as %s = values(%s.example).", a.Name, a.Ref)
	}
	return fmt.Sprintf(" A resource with for_each is a map of instances; pick one by key, such as %s = %s.example[\"key\"].", a.Name, a.Ref)
}

// Attributes every instance's reference value carries besides its arguments and derived
// figures.
const (
	AddressAttr = "address"
	NameAttr    = "name"
)
