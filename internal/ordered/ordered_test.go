package ordered

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEncode_inOrder(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		var got strings.Builder
		err := Encode(100, workers, func(c int, buf []byte) ([]byte, error) {
			return fmt.Appendf(buf, "%d,", c), nil
		}, func(b []byte) error {
			got.Write(b)
			return nil
		})
		var want strings.Builder
		for c := range 100 {
			fmt.Fprintf(&want, "%d,", c)
		}
		if err != nil || got.String() != want.String() {
			t.Errorf("workers %d: err %v, got %q", workers, err, got.String())
		}
	}
}

func TestEncode_stopsEmittingAtFirstError(t *testing.T) {
	for _, workers := range []int{1, 4} {
		boom := errors.New("boom")
		var emitted []string
		err := Encode(50, workers, func(c int, buf []byte) ([]byte, error) {
			if c == 7 {
				return buf, boom
			}
			return fmt.Appendf(buf, "%d", c), nil
		}, func(b []byte) error {
			emitted = append(emitted, string(b))
			return nil
		})
		if !errors.Is(err, boom) || len(emitted) != 7 {
			t.Errorf("workers %d: err %v, emitted %d chunks; want boom after 7", workers, err, len(emitted))
		}
	}
}
