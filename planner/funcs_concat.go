package planner

import (
	"errors"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// concatFunc is go-cty's stdlib.ConcatFunc with the same results, computed without
// unmarking every argument deeply just to read its type: a fabric's endpoints are a
// concat of a thousand racks' address lists, where the deep walks were most of the
// cost of evaluating the fabric.
var concatFunc = function.New(&function.Spec{
	Description: `Concatenates together all of the given lists or tuples into a single sequence, preserving the input order.`,
	VarParam: &function.Parameter{
		Name:        "seqs",
		Type:        cty.DynamicPseudoType,
		AllowMarked: true,
	},
	Type: concatType,
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder {
		return b.NotNull()
	},
	Impl: concatImpl,
})

func concatType(args []cty.Value) (cty.Type, error) {
	if len(args) == 0 {
		return cty.NilType, errors.New("at least one argument is required")
	}
	if args[0].Type().IsListType() {
		tys := make([]cty.Type, len(args))
		for i, val := range args {
			if !val.Type().IsListType() {
				tys = nil
				break
			}
			tys[i] = val.Type()
		}
		if tys != nil {
			if common, _ := convert.UnifyUnsafe(tys); common != cty.NilType {
				return common, nil
			}
		}
	}
	n := 0
	for _, val := range args {
		if ty := val.Type(); ty.IsTupleType() {
			n += len(ty.TupleElementTypes())
		}
	}
	etys := make([]cty.Type, 0, n)
	for i, val := range args {
		// Marks never change a type; only a list's length needs the list itself,
		// and only its own marks stand in the way of reading it.
		ty := val.Type()
		switch {
		case ty.IsTupleType():
			etys = append(etys, ty.TupleElementTypes()...)
		case ty.IsListType():
			list, _ := val.Unmark()
			if !list.IsKnown() {
				return cty.DynamicPseudoType, nil
			}
			for range list.LengthInt() {
				etys = append(etys, ty.ElementType())
			}
		default:
			return cty.NilType, function.NewArgErrorf(i, "all arguments must be lists or tuples; got %s", ty.FriendlyName())
		}
	}
	return cty.Tuple(etys), nil
}

func concatImpl(args []cty.Value, retType cty.Type) (cty.Value, error) {
	var marks []cty.ValueMarks
	if retType.IsListType() {
		var vals []cty.Value
		for i, list := range args {
			list, err := convert.Convert(list, retType)
			if err != nil {
				return cty.NilVal, function.NewArgError(i, err)
			}
			list, m := list.Unmark()
			if len(m) > 0 {
				marks = append(marks, m)
			}
			vals = appendElements(vals, list)
		}
		if len(vals) == 0 {
			return cty.ListValEmpty(retType.ElementType()).WithMarks(marks...), nil
		}
		return cty.ListVal(vals).WithMarks(marks...), nil
	}
	vals := make([]cty.Value, 0, len(retType.TupleElementTypes()))
	for _, seq := range args {
		seq, m := seq.Unmark()
		if len(m) > 0 {
			marks = append(marks, m)
		}
		vals = appendElements(vals, seq)
	}
	return cty.TupleVal(vals).WithMarks(marks...), nil
}

func appendElements(vals []cty.Value, seq cty.Value) []cty.Value {
	for it := seq.ElementIterator(); it.Next(); {
		_, v := it.Element()
		vals = append(vals, v)
	}
	return vals
}
