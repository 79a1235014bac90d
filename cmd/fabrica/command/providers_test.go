package command

import (
	"context"
	"errors"
	"testing"
)

// A provider asked for after the source is closed (a refresh started beside an
// evaluation that failed) is not started: nothing would end it.
func TestPluginSourceClosedStartsNothing(t *testing.T) {
	s, err := newPluginSource(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Start(context.Background(), "sim"); !errors.Is(err, errSourceClosed) {
		t.Fatalf("Start after Close: %v, want %v", err, errSourceClosed)
	}
}
