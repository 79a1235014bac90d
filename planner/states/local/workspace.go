package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/fabrica-iac/fabrica/planner/states"
)

// Workspaces, as in Terraform's local backend: the default workspace's state is the
// configured file (.fabrica/state.json), and workspace NAME's is the file of the same
// name in a directory next to it, .fabrica/workspaces/NAME/state.json. A workspace
// exists when its directory does.

// WorkspacePath returns the state file of workspace name for a configuration whose
// default state file is path: path itself for states.DefaultWorkspace, else
// dir(path)/workspaces/name/base(path).
func WorkspacePath(path, name string) string {
	if name == states.DefaultWorkspace || name == "" {
		return path
	}
	return filepath.Join(filepath.Dir(path), "workspaces", name, filepath.Base(path))
}

// Workspaces manages the workspaces of a local state. It implements states.Workspaces.
type Workspaces struct {
	path string
}

var _ states.Workspaces = (*Workspaces)(nil)

// NewWorkspaces returns the workspaces of the configuration whose default state file
// is path (e.g. DefaultPath under the configuration directory).
func NewWorkspaces(path string) *Workspaces { return &Workspaces{path: path} }

func (w *Workspaces) dir() string { return filepath.Join(filepath.Dir(w.path), "workspaces") }

// List returns "default" and the names of the directories in dir(path)/workspaces.
func (w *Workspaces) List(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(w.dir())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("listing workspaces: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != states.DefaultWorkspace && states.ValidateWorkspaceName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return append([]string{states.DefaultWorkspace}, names...), nil
}

// Create makes the workspace's directory.
func (w *Workspaces) Create(ctx context.Context, name string) error {
	if err := states.ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == states.DefaultWorkspace {
		return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceExists)
	}
	if err := os.MkdirAll(w.dir(), 0o755); err != nil {
		return fmt.Errorf("creating workspace %q: %w", name, err)
	}
	if err := os.Mkdir(filepath.Join(w.dir(), name), 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceExists)
		}
		return fmt.Errorf("creating workspace %q: %w", name, err)
	}
	return nil
}

// Delete removes the workspace's directory, with its state, backup and journal. It
// takes the workspace's lock first, so a workspace in use is not deleted.
func (w *Workspaces) Delete(ctx context.Context, name string, force bool) error {
	if err := states.ValidateWorkspaceName(name); err != nil {
		return err
	}
	if name == states.DefaultWorkspace {
		return errors.New("the default workspace cannot be deleted")
	}
	dir := filepath.Join(w.dir(), name)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("workspace %q: %w", name, states.ErrWorkspaceNotFound)
	}
	b := New(WorkspacePath(w.path, name))
	id, err := b.Lock(ctx, states.NewLockInfo("workspace delete"))
	if err != nil {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	s, err := b.Load(ctx)
	if err == nil && s.Len() > 0 && !force {
		err = &states.WorkspaceNotEmptyError{Name: name, Instances: s.Len()}
	}
	if err != nil && !force {
		b.Unlock(ctx, id)
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Unlock(ctx, id)
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	// The lock's files went with the directory; release the flock itself.
	if err := b.Unlock(ctx, id); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting workspace %q: %w", name, err)
	}
	return nil
}
