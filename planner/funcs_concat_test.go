package planner

import (
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// TestConcatMatchesStdlib pins concatFunc to go-cty's ConcatFunc, which it replaces for
// speed: the same value (marks included) or the same error for every case.
func TestConcatMatchesStdlib(t *testing.T) {
	strs := cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})
	nums := cty.ListVal([]cty.Value{cty.NumberIntVal(1)})
	tuple := cty.TupleVal([]cty.Value{cty.StringVal("c"), cty.True})
	deep := cty.TupleVal([]cty.Value{cty.StringVal("s").Mark("sensitive"), cty.StringVal("x")})
	cases := map[string][]cty.Value{
		"lists":            {strs, strs},
		"lists unified":    {strs, nums},
		"list and tuple":   {strs, tuple},
		"tuples":           {tuple, tuple, cty.EmptyTupleVal},
		"marked list":      {strs.Mark("sensitive"), tuple},
		"marked tuple":     {tuple.Mark("sensitive"), strs},
		"marked inside":    {deep, strs},
		"marked lists":     {strs.Mark("a"), strs.Mark("b")},
		"empty lists":      {cty.ListValEmpty(cty.String), cty.ListValEmpty(cty.String)},
		"unknown list":     {strs, cty.UnknownVal(cty.List(cty.String))},
		"unknown in tuple": {tuple, cty.UnknownVal(cty.List(cty.String))},
		"not a sequence":   {strs, cty.StringVal("x")},
		"null":             {strs, cty.NullVal(cty.List(cty.String))},
		"none":             {},
		"dynamic":          {cty.DynamicVal, strs},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			want, wantErr := stdlib.ConcatFunc.Call(args)
			got, gotErr := concatFunc.Call(args)
			if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && (gotErr.Error() != wantErr.Error() || argIndex(gotErr) != argIndex(wantErr))) {
				t.Fatalf("error = %v (argument %d), stdlib's = %v (argument %d)", gotErr, argIndex(gotErr), wantErr, argIndex(wantErr))
			}
			if wantErr != nil {
				return
			}
			if !got.RawEquals(want) {
				t.Errorf("concat = %#v\nstdlib = %#v", got, want)
			}
		})
	}
}

// argIndex is the argument an error is about, or -1.
func argIndex(err error) int {
	var ae function.ArgError
	if errors.As(err, &ae) {
		return ae.Index
	}
	return -1
}
