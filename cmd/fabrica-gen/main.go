// Command fabrica-gen writes a large, valid fabrica configuration for benchmarks and
// experiments: N DGX-class nodes in racks, pods and facilities, with a compute fabric,
// a training cluster and a job per pod and storage per facility (see package bench).
//
//	go run ./cmd/fabrica-gen -nodes 100000 -style count -out /tmp/big
//	fabrica -C /tmp/big validate
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/fabrica-iac/fabrica/bench"
	"github.com/fabrica-iac/fabrica/schema"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fabrica-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: fabrica-gen -nodes N -out DIR [flags]\n\n"+
			"Writes a valid configuration of N compute nodes, one file per facility.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var o bench.Options
	var style, out string
	var force bool
	fs.IntVar(&o.Nodes, "nodes", 0, "number of compute nodes (`N`, required)")
	fs.StringVar(&style, "style", "count", "hardware blocks: \"count\" (one count block per rack) or \"node\" (one block per node)")
	fs.StringVar(&out, "out", "", "directory to write the files to (`DIR`, required; created if missing)")
	fs.BoolVar(&force, "force", false, "write into a non-empty DIR, replacing its *"+schema.SuffixHCL+" files")
	fs.IntVar(&o.NodesPerRack, "nodes-per-rack", bench.DefaultNodesPerRack, "nodes in one rack")
	fs.IntVar(&o.RacksPerPod, "racks-per-pod", bench.DefaultRacksPerPod, "racks sharing a compute fabric, cluster and job")
	fs.IntVar(&o.RacksPerFacility, "racks-per-facility", bench.DefaultRacksPerFacility, "racks in one facility (one file)")
	fs.IntVar(&o.StorageServers, "storage-servers", bench.DefaultStorageServers, "storage servers per facility (at least 3)")
	fs.StringVar(&o.DeviceType, "device-type", bench.DefaultDeviceType, "built-in device type of the compute nodes")
	fs.BoolVar(&o.NoJobs, "no-jobs", false, "leave out the training jobs (for plan/apply with the sim provider only)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "fabrica-gen: "+format+"\n", a...)
		return 1
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q; all options are flags, see -help", fs.Arg(0))
	}
	if o.Nodes < 1 {
		return fail("-nodes must be at least 1, for example -nodes 100000")
	}
	if out == "" {
		return fail("-out DIR is required: the directory to write the configuration to")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"nodes-per-rack", o.NodesPerRack}, {"racks-per-pod", o.RacksPerPod}, {"racks-per-facility", o.RacksPerFacility}, {"storage-servers", o.StorageServers}} {
		if f.v < 1 {
			return fail("-%s must be at least 1", f.name)
		}
	}
	var err error
	if o.Style, err = bench.ParseStyle(style); err != nil {
		return fail("-style: %v", err)
	}
	if !slices.Contains(bench.DeviceTypes(), o.DeviceType) {
		return fail("-device-type %q is not one the generator lays out; use one of %s", o.DeviceType, strings.Join(bench.DeviceTypes(), ", "))
	}
	if kw := o.RackKW(); kw > bench.MaxRackKW() {
		return fail("%d %s nodes draw %.1f kW per rack, more than any rack cooling removes (%g kW); lower -nodes-per-rack", o.NodesPerRack, o.DeviceType, kw, bench.MaxRackKW())
	}

	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail("%v", err)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fail("%v", err)
	}
	if len(entries) > 0 && !force {
		return fail("%s is not empty; choose an empty directory or pass -force to replace its *%s files", out, schema.SuffixHCL)
	}
	if force {
		// Remove configuration files a previous run left, so a smaller configuration
		// does not mix with the rest of a larger one.
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), schema.SuffixHCL) {
				if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
					return fail("%v", err)
				}
			}
		}
	}
	files := bench.Generate(o)
	size := 0
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return fail("%v", err)
		}
		size += len(files[name])
	}
	s := o.Shape()
	fmt.Fprintf(stdout, "Wrote %s (%.1f MiB) to %s: %s, %s, %s, %d %s nodes (%d GPUs), %d storage servers, %d resource instances.\n",
		plural(len(files), "file"), float64(size)/(1<<20), out, plural(s.Facilities, "facility"), plural(s.Racks, "rack"), plural(s.Pods, "pod"), s.ComputeNodes, o.DeviceType, s.GPUs, s.StorageServers, s.Instances)
	return 0
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
