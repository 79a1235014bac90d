package format

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/fabrica-iac/fabrica/internal/atomicfile"
	"github.com/hashicorp/hcl/v2"
)

// ext is the file name suffix of the files that directory scans format.
const ext = ".fab.hcl"

// Options controls a formatting run.
type Options struct {
	Paths     []string // files or directories; empty means "."
	Recursive bool     // descend into subdirectories (skip hidden dirs like .fabrica, .git, and testdata)
	Check     bool     // do not write; report files that would change
	Diff      bool     // produce a unified diff per changed file
	Write     bool     // write changes back (atomically: temp file in same dir + rename, keep file mode)
}

// Result is one file that is (or would be) changed.
type Result struct {
	Path string // as given/joined, relative paths stay relative
	Diff string // unified diff ("--- a/PATH\n+++ b/PATH\n@@ ... @@"), only when Options.Diff
}

// Run formats every *.fab.hcl file found (only *.fab.hcl — JSON files are
// left alone) and returns the changed files in lexical order. Files with
// syntax errors are not changed; their errors come back as hcl.Diagnostics
// (with file:line:col ranges) and the run continues with the other files.
//
// A path naming a file is formatted whatever its name; a directory is
// scanned for *.fab.hcl files, skipping hidden files, and with Recursive
// also its subdirectories except hidden ones (".fabrica", ".git") and
// "testdata". A directory named explicitly is scanned even when hidden.
// Symbolic links to files are followed (the link is kept and its target
// rewritten); links to directories are not descended into. A file reached
// twice is formatted once.
//
// Files are written only when Write is set and Check is not. The error is
// only for I/O failures (e.g. a path that does not exist, named in the
// error). All paths are resolved before any file is read, so a bad path
// stops the run before anything is written; a failure while reading or
// writing a file stops the run there, returning the results and
// diagnostics gathered so far along with the error.
func Run(opts Options) ([]Result, hcl.Diagnostics, error) {
	paths := opts.Paths
	if len(paths) == 0 {
		paths = []string{"."}
	}
	files, err := collect(paths, opts.Recursive)
	if err != nil {
		return nil, nil, err
	}

	var (
		results []Result
		diags   hcl.Diagnostics
	)
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return results, diags, fmt.Errorf("reading %s: %w", path, err)
		}
		out, fileDiags := Source(src, path)
		diags = append(diags, fileDiags...)
		if fileDiags.HasErrors() || bytes.Equal(src, out) {
			continue
		}
		r := Result{Path: path}
		if opts.Diff {
			name := strings.TrimPrefix(filepath.ToSlash(path), "/")
			r.Diff = unifiedDiff("a/"+name, "b/"+name, src, out)
		}
		if opts.Write && !opts.Check {
			if err := writeAtomic(path, out); err != nil {
				return results, diags, err
			}
		}
		results = append(results, r)
	}
	return results, diags, nil
}

// collect returns the files to format under paths, deduplicated and sorted.
func collect(paths []string, recursive bool) ([]string, error) {
	seen := make(map[string]bool)
	var files []string
	add := func(path string) {
		key := filepath.Clean(path)
		if !seen[key] {
			seen[key] = true
			files = append(files, path)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			// "PATH: no such file or directory"; errors.Is(err,
			// fs.ErrNotExist) holds.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		if err := scanDir(p, recursive, add); err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return files, nil
}

// scanDir calls add for each file to format in dir, and with recursive in
// its subdirectories.
func scanDir(dir string, recursive bool, add func(string)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err // *fs.PathError names the path
		}
		if d.IsDir() {
			if path == dir {
				return nil
			}
			if !recursive || skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ext) {
			return nil
		}
		switch {
		case d.Type().IsRegular():
			add(path)
		case d.Type()&fs.ModeSymlink != 0:
			if info, err := os.Stat(path); err == nil && info.Mode().IsRegular() {
				add(path)
			}
		}
		return nil
	})
}

// skipDir reports whether a recursive scan leaves out a subdirectory.
func skipDir(name string) bool {
	return strings.HasPrefix(name, ".") || name == "testdata"
}

// writeAtomic replaces the file at path (the target, if path is a symbolic link) with
// data, keeping the original's mode (see internal/atomicfile).
func writeAtomic(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	info, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	mode := info.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
	if err := atomicfile.WriteBytes(target, mode, data); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
