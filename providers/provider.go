package providers

import (
	"context"
	"encoding/json"
)

// Attrs is one instance's attributes as a JSON object.
type Attrs = json.RawMessage

// Provider is what every provider implements. All methods may be called concurrently
// with Stop; Read, Plan and Import are safe to call concurrently with each other.
type Provider interface {
	// Info describes the provider: name, version, kinds and configuration arguments.
	Info(ctx context.Context) (InfoResponse, error)
	// Configure passes the provider block's configuration; it is called once, first.
	Configure(ctx context.Context, req ConfigureRequest) ConfigureResponse
	// Read returns the actual attributes of existing instances.
	Read(ctx context.Context, req ReadRequest) ReadResponse
	// Plan proposes the attributes each instance will have after apply.
	Plan(ctx context.Context, req PlanRequest) PlanResponse
	// Apply carries out the changes received on changes, at most as many at once as the
	// caller sends, and reports on events until changes is closed and every change has
	// finished; then it closes nothing and returns. A returned error means the provider
	// itself failed (every change not yet reported is lost); a failed change is an event.
	Apply(ctx context.Context, changes <-chan Change, events chan<- Event) error
	// Import reads an existing object by its provider ID so it can be adopted into state.
	Import(ctx context.Context, req ImportRequest) ImportResponse
	// Stop asks in-flight operations to finish quickly; Apply then reports them failed.
	Stop(ctx context.Context) error
}

// InfoResponse describes a provider.
type InfoResponse struct {
	Name    string
	Version string
	// Kinds are the resource kinds the provider implements.
	Kinds []string
	// Config describes the provider block's arguments.
	Config []ConfigAttr
	// Sensitive lists, per kind, the attributes whose values are secrets (a credential
	// the provider issues, say): fabrica redacts them in every plan rendering, the plan
	// JSON, policy input and state show, and keeps them only in state and plan files.
	Sensitive map[string][]string
}

// ConfigAttr is one argument of a provider block.
type ConfigAttr struct {
	Name     string
	Type     string // "string", "number", "bool", "duration"
	Required bool
	Doc      string
}

// ConfigureRequest carries the provider block's evaluated configuration.
type ConfigureRequest struct {
	// Config is the provider block as a JSON object (empty object when absent).
	Config json.RawMessage
	// WorkDir is the configuration directory; providers keep their files under
	// WorkDir/.fabrica.
	WorkDir string
}

// ConfigureResponse reports configuration problems.
type ConfigureResponse struct {
	Diagnostics []Diagnostic
}

// ReadItem is one instance to read.
type ReadItem struct {
	Address string
	Kind    string
	ID      string
	// PriorHash is AttrsHash of the attributes in state; a provider whose actual
	// attributes hash the same may answer Unchanged without sending them.
	PriorHash string
}

// ReadRequest is a batch of instances to read.
type ReadRequest struct {
	Items []ReadItem
}

// ReadResult is the outcome of reading one instance, in request order.
type ReadResult struct {
	Address string
	// Gone is true when the object no longer exists.
	Gone bool
	// Unchanged is true when the actual attributes hash to the item's PriorHash; Attrs is
	// then empty.
	Unchanged bool
	Attrs     Attrs
	// Hash is AttrsHash(Attrs) when Attrs is set.
	Hash        string
	Diagnostics []Diagnostic
}

// ReadResponse holds one result per item, in request order.
type ReadResponse struct {
	Results     []ReadResult
	Diagnostics []Diagnostic
}

// PlanItem is one instance to plan. Prior is nil when creating; Desired is nil when
// deleting.
type PlanItem struct {
	Address string
	Kind    string
	ID      string
	Prior   Attrs
	Desired Attrs
}

// PlanRequest is a batch of instances to plan.
type PlanRequest struct {
	Items []PlanItem
}

// PlannedChange is the provider's proposal for one instance, in request order.
type PlannedChange struct {
	Address string
	// Planned is the attributes after apply, for create and update.
	Planned Attrs
	// Unknown lists top-level attributes whose values are known only after apply.
	Unknown []string
	// RequiresReplace lists the attributes whose change forces a replacement.
	RequiresReplace []string
	// Reason, when set, tells a reviewer why the instance changes beyond its
	// configuration, e.g. "job failed: rank 2 exited with code 1".
	Reason      string
	Diagnostics []Diagnostic
}

// PlanResponse holds one change per item, in request order.
type PlanResponse struct {
	Changes     []PlannedChange
	Diagnostics []Diagnostic
}

// Action is what apply does to an instance.
type Action string

// Actions a Change can carry. Replace is sent as a Delete and a Create.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
)

// Change is one change to apply.
type Change struct {
	Address string
	Kind    string
	Action  Action
	ID      string // empty for create
	Prior   Attrs  // nil for create
	Planned Attrs  // nil for delete
	// Replacing is, for the create half of a replacement, the ID of the object being
	// replaced. A create must be idempotent by address: when an object already exists
	// for Address (created by an apply whose answer was lost, e.g. fabrica was killed)
	// the provider adopts it instead of making a duplicate, unless it is Replacing.
	Replacing string
}

// EventType says what an Event reports.
type EventType string

// Event types, in the order a change goes through them.
const (
	EventStarted  EventType = "started"
	EventProgress EventType = "progress" // a stage reached, e.g. "burn-in"
	EventLog      EventType = "log"
	EventDone     EventType = "done"
	EventFailed   EventType = "failed"
)

// Event reports the progress of one change. Every change sends exactly one Done or
// Failed event, last.
type Event struct {
	Address string
	Type    EventType
	// Stage names the step reached, for progress events.
	Stage   string
	Message string
	// ID and New are the object's ID and attributes after a Done (nil New after a delete).
	// A Failed event may carry them too when the object was partly created.
	ID          string
	New         Attrs
	Diagnostics []Diagnostic
}

// ImportRequest names an existing object.
type ImportRequest struct {
	Kind string
	ID   string
}

// ImportResponse returns the object's attributes.
type ImportResponse struct {
	Attrs       Attrs
	Diagnostics []Diagnostic
}

// Severity of a provider diagnostic.
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is a problem a provider reports; the planner places it in the configuration
// from the address and attribute.
type Diagnostic struct {
	Severity Severity
	Summary  string
	Detail   string
	// Attribute is the top-level attribute at fault, or "".
	Attribute string
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// Errorf returns an error diagnostic.
func Errorf(attribute, summary, detail string) Diagnostic {
	return Diagnostic{Severity: SeverityError, Summary: summary, Detail: detail, Attribute: attribute}
}
