package states

import (
	"context"
	"errors"
	"fmt"
)

// DefaultWorkspace is the workspace every configuration has. It always exists and
// cannot be deleted.
const DefaultWorkspace = "default"

// Workspaces manages the named states of one configuration (e.g. staging and
// production), as `fabrica workspace list|new|delete` do. A Backend serves one
// workspace, chosen when it is built; which one is current is the CLI's business.
type Workspaces interface {
	// List returns the workspaces: DefaultWorkspace first, then the others sorted.
	List(ctx context.Context) ([]string, error)
	// Create makes a new, empty workspace. An existing one is ErrWorkspaceExists;
	// an invalid name is an error from ValidateWorkspaceName.
	Create(ctx context.Context, name string) error
	// Delete removes a workspace and its state. It refuses DefaultWorkspace, a
	// workspace that does not exist (ErrWorkspaceNotFound), a locked one (a
	// *LockedError), and, unless force is set, one whose state still holds resource
	// instances (*WorkspaceNotEmptyError): deleting it forgets them without destroying
	// them.
	Delete(ctx context.Context, name string, force bool) error
}

// Workspace errors.
var (
	ErrWorkspaceExists   = errors.New("workspace already exists")
	ErrWorkspaceNotFound = errors.New("workspace does not exist")
)

// WorkspaceNotEmptyError is returned by Delete without force for a workspace whose
// state holds resource instances.
type WorkspaceNotEmptyError struct {
	// Name is the workspace.
	Name string
	// Instances is how many resource instances its state holds.
	Instances int
}

func (e *WorkspaceNotEmptyError) Error() string {
	return fmt.Sprintf("workspace %q still manages %d resource instances; destroy them first (fabrica destroy), or delete the workspace with --force to forget them (the real resources stay)",
		e.Name, e.Instances)
}

// ValidateWorkspaceName checks a workspace name: 1 to 64 characters, letters, digits,
// '-', '_' and '.', starting with a letter or digit. Names become directory names
// and database keys, so nothing else is allowed.
func ValidateWorkspaceName(name string) error {
	bad := name == "" || len(name) > 64
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		bad = !alnum && (i == 0 || c != '-' && c != '_' && c != '.')
	}
	if bad {
		return fmt.Errorf("invalid workspace name %q: use 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit", name)
	}
	return nil
}
