package policies

import (
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// BuiltinBundle names the bundled policies in Options.Bundles.
const BuiltinBundle = "builtin"

//go:embed bundle/params.json bundle/*/*.rego
var builtinFS embed.FS

// BuiltinFS returns the bundled policies and their params.json, rooted at the bundle
// (energy/pue.rego, params.json, ...), e.g. to list or export them.
func BuiltinFS() fs.FS {
	sub, err := fs.Sub(builtinFS, "bundle")
	if err != nil {
		panic(err) // the embedded tree always has bundle/
	}
	return sub
}

// bundleFiles is what one bundle contributes: Rego sources and parameter declarations.
type bundleFiles struct {
	name string
	// rego maps each file's display path ("builtin/energy/pue.rego",
	// "policies/custom.rego") to its source.
	rego map[string][]byte
	// paramsPath and params are the bundle's params.json, when it has one.
	paramsPath string
	params     []byte
}

// isTestFile reports whether a Rego file holds tests (conftest and OPA convention).
func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.rego") }

// readBundle reads a bundle: "builtin" or a directory (relative to baseDir unless
// absolute), walked recursively for .rego files, skipping hidden directories. Test
// files are included only when tests is set.
func readBundle(name, baseDir string, tests bool) (*bundleFiles, error) {
	b := &bundleFiles{name: name, rego: map[string][]byte{}}
	var fsys fs.FS
	display := name
	if name == BuiltinBundle {
		fsys = BuiltinFS()
	} else {
		dir := name
		if !filepath.IsAbs(dir) && baseDir != "" {
			dir = filepath.Join(baseDir, dir)
		}
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("policy bundle %q: %w", name, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("policy bundle %q is not a directory: a bundle is %q or a directory of .rego files", name, BuiltinBundle)
		}
		fsys = os.DirFS(dir)
		display = filepath.ToSlash(filepath.Clean(name))
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case p == paramsFile:
			b.paramsPath = path.Join(display, p)
			b.params, err = fs.ReadFile(fsys, p)
			return err
		case !strings.HasSuffix(p, ".rego"), isTestFile(p) && !tests:
			return nil
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		b.rego[path.Join(display, p)] = src
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("policy bundle %q: %w", name, err)
	}
	return b, nil
}

// parserOptions parses Rego v1 with METADATA annotations.
var parserOptions = ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}

// parseBundles parses every Rego file of the bundles, returning the modules by display
// path and the parse errors.
func parseBundles(bundles []*bundleFiles) (map[string]*ast.Module, ast.Errors) {
	modules := map[string]*ast.Module{}
	var errs ast.Errors
	for _, b := range bundles {
		for _, p := range slices.Sorted(maps.Keys(b.rego)) {
			m, err := ast.ParseModuleWithOpts(p, string(b.rego[p]), parserOptions)
			if err != nil {
				if ae, ok := err.(ast.Errors); ok {
					errs = append(errs, ae...)
				} else {
					errs = append(errs, ast.NewError(ast.ParseErr, &ast.Location{File: p}, "%v", err))
				}
				continue
			}
			if m == nil {
				errs = append(errs, ast.NewError(ast.ParseErr, &ast.Location{File: p}, "the file is empty; a policy file needs at least a package"))
				continue
			}
			modules[p] = m
		}
	}
	return modules, errs
}
