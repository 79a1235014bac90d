package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/fabrica-iac/fabrica/schema/addrs"
	"github.com/fabrica-iac/fabrica/schema/diag"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

// File name suffixes of configuration files.
const (
	SuffixHCL  = ".fab.hcl"
	SuffixJSON = ".fab.json"
)

// LoadDir loads every *.fab.hcl and *.fab.json file in dir (not its subdirectories).
func LoadDir(dir string) (*Config, diag.Diagnostics) {
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
	cfg, diags := LoadSources(files)
	if cfg != nil {
		cfg.Dir = dir
	}
	return cfg, diags
}

// LoadSources loads a configuration from file contents keyed by filename; a name ending in
// .json is parsed as HCL's JSON syntax.
func LoadSources(files map[string][]byte) (*Config, diag.Diagnostics) {
	var diags diag.Diagnostics
	cfg := &Config{
		Sources:       files,
		Variables:     map[string]*Variable{},
		Locals:        map[string]*Local{},
		Outputs:       map[string]*Output{},
		DeviceTypes:   map[string]*DeviceTypeBlock{},
		resourceIndex: map[addrs.Resource]*Resource{},
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	parsed := parseFiles(names, files)
	for i := range names {
		diags = diags.Append(parsed[i].diags)
		if parsed[i].file == nil || parsed[i].diags.HasErrors() {
			continue
		}
		diags = diags.Append(cfg.addFile(parsed[i].file))
	}
	return cfg, diags
}

type parsedFile struct {
	file  *hcl.File
	diags hcl.Diagnostics
}

// parseFiles parses files on every core; parsing is most of loading a large
// configuration, and files are independent.
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
			for i := range next {
				n := names[i]
				if strings.HasSuffix(n, ".json") {
					out[i].file, out[i].diags = hcljson.Parse(files[n], n)
				} else {
					out[i].file, out[i].diags = hclsyntax.ParseConfig(files[n], n, hcl.InitialPos)
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
	content, hd := f.Body.Content(fileSchema)
	diags := diag.Diagnostics{}.Append(hd)
	for _, b := range content.Blocks {
		if len(b.Labels) > 0 && !hclIdentifier(b.Labels[0]) {
			diags = diags.Append(diag.Errorf(b.LabelRanges[0], "Invalid block name",
				"%q is not a valid name. A name starts with a letter or underscore and may contain letters, digits, underscores and dashes.", b.Labels[0]))
			continue
		}
		switch b.Type {
		case "fabrica":
			diags = diags.Append(c.addSettings(b))
		case "provider":
			p, d := decodeProvider(b)
			diags = diags.Append(d)
			if p != nil {
				c.Providers = append(c.Providers, p)
			}
		case "variable":
			diags = diags.Append(c.addVariable(b))
		case "locals":
			diags = diags.Append(c.addLocals(b))
		case "output":
			diags = diags.Append(c.addOutput(b))
		case "device_type":
			diags = diags.Append(c.addDeviceType(b))
		default:
			diags = diags.Append(c.addResource(b))
		}
	}
	return diags
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
