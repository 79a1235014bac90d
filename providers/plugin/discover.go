package plugin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// ExecutablePrefix starts the file name of every external provider plugin:
// fabrica-provider-NAME serves the provider NAME.
const ExecutablePrefix = "fabrica-provider-"

// EnvPluginPath names the variable that lists further plugin directories,
// os.PathListSeparator-separated; fabrica passes its value to Discover.
const EnvPluginPath = "FABRICA_PLUGIN_PATH"

// Found is an external provider plugin found on disk.
type Found struct {
	// Name is the provider's name, from the file name.
	Name string
	// Path is the executable's absolute path.
	Path string
}

// providerName is what may follow ExecutablePrefix: a provider name as the
// configuration writes it.
var providerName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// Discover finds the external provider plugins: executables named fabrica-provider-NAME
// in WORKDIR/.fabrica/plugins, then in each directory pathEnv lists (the value of
// $FABRICA_PLUGIN_PATH; relative entries are taken from workDir). The first directory
// holding a name wins. Directories that do not exist are skipped, as are files that are
// not executable or whose NAME is not a valid provider name (on Windows, ".exe" is
// dropped from the name). The result is sorted by name.
func Discover(workDir string, pathEnv string) ([]Found, error) {
	dirs := []string{filepath.Join(workDir, ".fabrica", "plugins")}
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(workDir, d)
		}
		dirs = append(dirs, d)
	}
	byName := map[string]Found{}
	for _, dir := range dirs {
		if err := discoverDir(dir, byName); err != nil {
			return nil, err
		}
	}
	found := make([]Found, 0, len(byName))
	for _, f := range byName {
		found = append(found, f)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, nil
}

// discoverDir adds the plugins of dir that byName does not hold yet.
func discoverDir(dir string, byName map[string]Found) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("looking for provider plugins: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), ExecutablePrefix)
		if !ok {
			continue
		}
		if runtime.GOOS == "windows" {
			name = strings.TrimSuffix(name, ".exe")
		}
		if _, seen := byName[name]; seen || !providerName.MatchString(name) {
			continue
		}
		path, err := filepath.Abs(filepath.Join(dir, e.Name()))
		if err != nil {
			return fmt.Errorf("looking for provider plugins: %w", err)
		}
		if !isExecutable(path) {
			continue
		}
		byName[name] = Found{Name: name, Path: path}
	}
	return nil
}

// isExecutable reports whether path (after symbolic links) is a regular file that may
// be run: on Windows every regular file named *.exe, elsewhere one with an execute bit.
func isExecutable(path string) bool {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	if runtime.GOOS == "windows" {
		return strings.HasSuffix(path, ".exe")
	}
	return info.Mode().Perm()&0o111 != 0
}
