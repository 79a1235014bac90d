//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64 || mips64 || mips64le)

package local

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestMmapSinkGrowth checks that the journal file grows by what it holds, from
// 256 KiB to 4 MiB at a time, and ends at the length of its lines.
func TestMmapSinkGrowth(t *testing.T) {
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "j"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := newMmapSink(f)
	if err != nil {
		t.Fatalf("no mmap sink on this file system: %v", err)
	}
	size := func() int64 {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if err := out.truncate(0); err != nil {
		t.Fatal(err)
	}
	const kib = 1 << 10
	if got := size(); got != 256*kib {
		t.Fatalf("after the open, the file is %d bytes, want 256 KiB", got)
	}
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	var written int64
	var sizes []int64
	for written < 14*1024*kib {
		if err := out.append(line); err != nil {
			t.Fatal(err)
		}
		written += int64(len(line))
		if s := size(); len(sizes) == 0 || s != sizes[len(sizes)-1] {
			sizes = append(sizes, s)
		}
	}
	want := []int64{256 * kib, 512 * kib, 1024 * kib, 2048 * kib, 4096 * kib, 8192 * kib, 12288 * kib, 16384 * kib}
	if !slices.Equal(sizes, want) {
		t.Errorf("file sizes while appending 14 MiB = %v, want %v", sizes, want)
	}
	if err := out.finish(); err != nil {
		t.Fatal(err)
	}
	if got := size(); got != written {
		t.Errorf("after finish, the file is %d bytes, want the %d written", got, written)
	}

	// A journal kept from a crash ends anywhere; what is added after it is mapped in
	// whole pages all the same (madvise takes nothing else).
	out, err = newMmapSink(f)
	if err != nil {
		t.Fatal(err)
	}
	defer out.finish()
	page := int64(os.Getpagesize())
	for _, keep := range []int64{300_001, 5_000_001} {
		if err := out.truncate(keep); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if got := size(); got%page != 0 || got <= keep {
				t.Fatalf("kept %d bytes, the file grew to %d: not a whole number of pages beyond them", keep, got)
			}
			for s := size(); size() == s; {
				if err := out.append(line); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
