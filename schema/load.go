package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/fabrica-iac/fabrica/internal/hclsyntax"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// File name suffixes of configuration files.
const (
	SuffixHCL  = ".fab.hcl"
	SuffixJSON = ".fab.json"
)

// LoadDir loads every *.fab.hcl and *.fab.json file in dir (not its subdirectories).
func LoadDir(dir string) (*Config, diag.Diagnostics) {
	files, diags := readDir(dir)
	if diags.HasErrors() {
		return nil, diags
	}
	cfg, diags := LoadSources(files)
	if cfg != nil {
		cfg.Dir = dir
	}
	return cfg, diags
}

// LoadSettings loads what a command that does not evaluate the configuration in dir
// needs of it: the fabrica block (backend, encryption) and every file's source, for
// messages. Only files that can hold the fabrica block are parsed, so applying a saved
// plan does not parse the 100,000 blocks it was made from. The Config has SettingsOnly
// set: its other blocks are those of the parsed files only.
func LoadSettings(dir string) (*Config, diag.Diagnostics) {
	files, diags := readDir(dir)
	if diags.HasErrors() {
		return nil, diags
	}
	parse := map[string][]byte{}
	for n, src := range files {
		if strings.HasSuffix(n, ".json") || mayHoldSettings(src) {
			parse[n] = src
		}
	}
	cfg, diags := LoadSources(parse)
	cfg.Sources, cfg.Dir, cfg.SettingsOnly = files, dir, true
	return cfg, diags
}

// mayHoldSettings reports whether HCL source can declare a fabrica block: it has the
// word fabrica where a block type can be (not part of a longer name, not after a dot).
// A comment, string or label that holds the word is a false alarm, which only costs
// parsing the file; a block may follow a comment or a byte-order mark on its line.
func mayHoldSettings(src []byte) bool {
	const word = "fabrica"
	for at := 0; ; {
		i := bytes.Index(src[at:], []byte(word))
		if i < 0 {
			return false
		}
		i += at
		at = i + len(word)
		if i > 0 && (isIdentByte(src[i-1]) || src[i-1] == '.') {
			continue // xfabrica, a.fabrica: another name
		}
		if at < len(src) && (isIdentByte(src[at]) || src[at] >= utf8.RuneSelf) {
			continue // fabrica-gen, fabrica_x, …: another name
		}
		return true
	}
}

func isIdentByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// readDir reads every configuration file of dir, by path.
func readDir(dir string) (map[string][]byte, diag.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, diag.Diagnostics{{Severity: diag.Error, Summary: "Cannot read configuration directory",
			Detail: fmt.Sprintf("%s. Run fabrica in a directory holding *.fab.hcl files, or pass -C DIR.", err)}}
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && (strings.HasSuffix(n, SuffixHCL) || strings.HasSuffix(n, SuffixJSON)) {
			names = append(names, filepath.Join(dir, n))
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, diag.Diagnostics{{Severity: diag.Error, Summary: "No configuration files",
			Detail: fmt.Sprintf("The directory %s has no *%s or *%s files. Create one (see examples/quickstart) or pass -C DIR.", dir, SuffixHCL, SuffixJSON)}}
	}
	files := make(map[string][]byte, len(names))
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			return nil, diag.Diagnostics{{Severity: diag.Error, Summary: "Cannot read configuration file", Detail: err.Error()}}
		}
		files[n] = src
	}
	return files, nil
}

// LoadSources loads a configuration from file contents keyed by filename; a name ending in
// .json is parsed as HCL's JSON syntax.
func LoadSources(files map[string][]byte) (*Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	cfg := newConfig()
	cfg.Sources = files
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	parsed := parseFiles(names, files)
	blocks := 0
	perKind := map[string]int{}
	for _, p := range parsed {
		if p.part != nil {
			blocks += len(p.part.Resources)
			for kind, names := range p.part.resourceIndex {
				perKind[kind] += len(names)
			}
		}
	}
	// Sized once: merging 100,000 blocks one file at a time grew the index seventeen times.
	cfg.Resources = make([]*Resource, 0, blocks)
	for kind, n := range perKind {
		cfg.resourceIndex[kind] = make(map[string]int32, n)
	}
	for i := range names {
		diags = diags.Append(parsed[i].diags)
		if parsed[i].part == nil {
			continue
		}
		diags = diags.Append(parsed[i].partDiags, cfg.merge(parsed[i].part))
	}
	return cfg, diags
}

func newConfig() *Config {
	return &Config{
		Variables:     map[string]*Variable{},
		Locals:        map[string]*Local{},
		Outputs:       map[string]*Output{},
		DeviceTypes:   map[string]*DeviceTypeBlock{},
		resourceIndex: nameIndex{},
	}
}

// merge adds one file's blocks, in file order, reporting names declared in an earlier
// file.
func (c *Config) merge(part *Config) diag.Diagnostics {
	var diags diag.Diagnostics
	if s := part.Settings; s != nil {
		if c.Settings != nil {
			diags = diags.Append(diag.Errorf(s.DeclRange, "Duplicate fabrica block",
				"The fabrica settings block is already declared at %s; a configuration has one. Merge them.", c.Settings.DeclRange.String()))
		} else {
			c.Settings = s
		}
	}
	c.Providers = append(c.Providers, part.Providers...)
	for _, name := range sortedNames(part.Variables) {
		v := part.Variables[name]
		if prev := c.Variables[name]; prev != nil {
			diags = diags.Append(duplicate("variable", name, v.DeclRange, prev.DeclRange))
			continue
		}
		c.Variables[name] = v
	}
	for _, name := range sortedNames(part.Locals) {
		l := part.Locals[name]
		if prev := c.Locals[name]; prev != nil {
			diags = diags.Append(duplicate("local value", name, l.DeclRange, prev.DeclRange))
			continue
		}
		c.Locals[name] = l
	}
	for _, name := range sortedNames(part.Outputs) {
		o := part.Outputs[name]
		if prev := c.Outputs[name]; prev != nil {
			diags = diags.Append(duplicate("output", name, o.DeclRange, prev.DeclRange))
			continue
		}
		c.Outputs[name] = o
	}
	for _, name := range sortedNames(part.DeviceTypes) {
		d := part.DeviceTypes[name]
		if prev := c.DeviceTypes[name]; prev != nil {
			diags = diags.Append(duplicate("device type", name, d.DeclRange, prev.DeclRange))
			continue
		}
		c.DeviceTypes[name] = d
	}
	for _, r := range part.Resources {
		if prev := c.Resource(r.Addr); prev != nil {
			diags = diags.Append(duplicate(r.Addr.Kind+" resource", r.Addr.Name, r.NameRange, prev.DeclRange))
			continue
		}
		r.Index = len(c.Resources)
		c.resourceIndex.add(r.Addr, r.Index)
		c.Resources = append(c.Resources, r)
	}
	return diags
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// holdsNoSyntax reports whether a file's decoded blocks hold none of its syntax tree's
// blocks, bodies or arguments: the settings and providers keep bodies that their
// backend or provider decodes later; resources, variables, locals, outputs and device
// types keep expressions, ranges and values only.
func (c *Config) holdsNoSyntax() bool {
	return c.Settings == nil && len(c.Providers) == 0
}

type parsedFile struct {
	file  *hcl.File
	diags hcl.Diagnostics
	// part is the file's blocks, decoded on its own; partDiags the decoding's problems.
	part      *Config
	partDiags diag.Diagnostics
}

// parseFiles parses and decodes files on every core; that is most of loading a large
// configuration, and files are independent until they are merged.
func parseFiles(names []string, files map[string][]byte) []parsedFile {
	out := make([]parsedFile, len(names))
	next := make(chan int, len(names))
	for i := range names {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var recycler hclsyntax.Recycler
			for i := range next {
				n := names[i]
				if strings.HasSuffix(n, ".json") {
					out[i].file, out[i].diags = hcljson.Parse(files[n], n)
				} else {
					out[i].file, out[i].diags = hclsyntax.ParseConfigRecycling(files[n], n, hcl.InitialPos, &recycler)
				}
				if out[i].file != nil && !out[i].diags.HasErrors() {
					out[i].part = newConfig()
					out[i].partDiags = out[i].part.addFile(out[i].file)
				}
				if out[i].part != nil && out[i].part.holdsNoSyntax() && len(out[i].diags) == 0 && len(out[i].partDiags) == 0 {
					// Decoded into the file's own structures: the next file's tree
					// takes its blocks, bodies and arguments.
					recycler.Recycle()
					out[i].file = nil
				} else {
					recycler.Keep()
				}
			}
		}()
	}
	wg.Wait()
	return out
}

var fileSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "fabrica"},
		{Type: "provider", LabelNames: []string{"name"}},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "output", LabelNames: []string{"name"}},
		{Type: "device_type", LabelNames: []string{"name"}},
	}}
	for _, k := range KindNames() {
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: k, LabelNames: []string{"name"}})
	}
	return s
}()

func (c *Config) addFile(f *hcl.File) diag.Diagnostics {
	if sb, ok := f.Body.(*hclsyntax.Body); ok {
		if _, blocks, ok := sb.QuickArguments(fileSchema, nil); ok {
			var diags diag.Diagnostics
			for _, b := range blocks {
				// A value, not AsHCLBlock's copy on the heap: a configuration with a
				// block per node has 100,000.
				hb := hcl.Block{Type: b.Type, Labels: b.Labels, Body: b.Body, DefRange: b.DefRange(), TypeRange: b.TypeRange, LabelRanges: b.LabelRanges}
				diags = diags.Append(c.addBlock(&hb))
			}
			return diags
		}
	}
	content, hd := f.Body.Content(fileSchema)
	diags := diag.Diagnostics{}.Append(hd)
	for _, b := range content.Blocks {
		diags = diags.Append(c.addBlock(b))
	}
	return diags
}

// addBlock decodes one top-level block.
func (c *Config) addBlock(b *hcl.Block) diag.Diagnostics {
	if len(b.Labels) > 0 && !hclIdentifier(b.Labels[0]) {
		return diag.Diagnostics{diag.Errorf(b.LabelRanges[0], "Invalid block name",
			"%q is not a valid name. A name starts with a letter or underscore and may contain letters, digits, underscores and dashes.", b.Labels[0])}
	}
	switch b.Type {
	case "fabrica":
		return c.addSettings(b)
	case "provider":
		p, d := decodeProvider(b)
		if p != nil {
			c.Providers = append(c.Providers, p)
		}
		return d
	case "variable":
		return c.addVariable(b)
	case "locals":
		return c.addLocals(b)
	case "output":
		return c.addOutput(b)
	case "device_type":
		return c.addDeviceType(b)
	}
	return c.addResource(b)
}

// hclIdentifier reports whether s is a valid HCL identifier, so a name can be used in
// references.
func hclIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
		case i > 0 && (r == '-' || (r >= '0' && r <= '9')):
		default:
			return false
		}
	}
	return true
}

func duplicate(what, name string, rng, prev hcl.Range) diag.Diagnostic {
	article := "A"
	if strings.ContainsRune("aeiou", rune(what[0])) {
		article = "An"
	}
	return diag.Errorf(rng, "Duplicate "+what,
		"%s %s named %q was already declared at %s. Names must be unique; rename or remove one of them.", article, what, name, prev.String())
}
