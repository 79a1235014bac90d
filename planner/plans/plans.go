// Package plans is the plan model: the changes a plan proposes, with their before and
// after attributes, the physical impact per facility, and what apply needs to carry it
// out (prior state serial and lineage, dependencies, lifecycle). The model is also the
// plan file and the plan JSON of DESIGN.md §5: one versioned document that `plan --out`
// writes, `apply FILE` reads, `show --json` prints and policies evaluate.
package plans

import (
	"encoding/json"
	"unsafe"

	"github.com/fabrica-iac/fabrica/schema"
	"github.com/fabrica-iac/fabrica/schema/diag"
)

// FormatVersion is the version of the plan document.
//
// 1.1 moved attribute_ranges from each resource change to the document, one entry per
// resource: the instances of a counted block have the same ranges.
const FormatVersion = "1.1"

// Action is what a plan does to one instance.
type Action string

// Actions, as written in the plan JSON.
const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	// Read records an instance whose state a refresh changed (refresh-only plans).
	Read Action = "read"
)

// Symbol is the action's one-character marker in human output.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	case Read:
		return "<="
	}
	return " "
}

// Mode is the kind of plan.
type Mode string

// Plan modes.
const (
	ModeNormal      Mode = "normal"
	ModeDestroy     Mode = "destroy"
	ModeRefreshOnly Mode = "refresh-only"
)

// Plan is a reviewed set of changes.
type Plan struct {
	FormatVersion  string `json:"format_version"`
	FabricaVersion string `json:"fabrica_version"`
	Mode           Mode   `json:"mode"`
	// Lineage and PriorSerial identify the state the plan was made against; apply
	// refuses a plan whose state has moved on.
	Lineage     string `json:"lineage"`
	PriorSerial uint64 `json:"prior_serial"`
	// ConfigHash hashes every configuration file, to tell a reviewer a plan still matches.
	ConfigHash string `json:"config_hash"`
	// ResourceChanges holds one entry per instance, sorted by address; no-ops included.
	// Once planned, neither the list nor a change in it is modified: Redact and
	// KeepEncoding keep what they made of it for as long as it is the same list.
	ResourceChanges []*ResourceChange `json:"resource_changes"`
	// AttributeRanges locates, for each resource of the changes that the configuration
	// declares ("hardware.gpu", without an instance key), each argument its block sets
	// ("protection.replicas" for one in a nested block), so that a policy finding about
	// an attribute lands on its line. Its instances share it.
	AttributeRanges map[string]map[string]*Range `json:"attribute_ranges,omitempty"`
	// Aggregates is the physical impact per facility, before and after.
	Aggregates []*FacilityImpact          `json:"aggregates"`
	Outputs    map[string]json.RawMessage `json:"outputs"`
	Variables  map[string]json.RawMessage `json:"variables,omitempty"`
	// ProviderConfigs are the evaluated provider blocks, so apply FILE needs no
	// configuration evaluation. Like Terraform's, a plan file can hold credentials:
	// treat it as a secret.
	ProviderConfigs map[string]json.RawMessage `json:"provider_configs,omitempty"`
	Diagnostics     []Diagnostic               `json:"diagnostics"`
	// Policy holds the policy findings, filled in by the policy stage.
	Policy json.RawMessage `json:"policy,omitempty"`

	// encoded is shared by a plan and its redacted copy: the resource changes as the
	// last Encode into a buffer wrote them, reused when the changes are the same.
	encoded *encodedChanges
	// redacted is what Redact made of the changes last.
	redacted *redactedChanges
}

// encodedChanges is the JSON of a list of resource changes, and of an attribute_ranges
// member (ranges is the map it encodes, by identity).
type encodedChanges struct {
	rcs  []*ResourceChange
	json []byte

	ranges     unsafe.Pointer
	rangesJSON []byte
}

// of returns the encoding when it is that of rcs: the same changes, by pointer
// (changes are not modified once planned; Redact copies the ones it changes).
func (c *encodedChanges) of(rcs []*ResourceChange) ([]byte, bool) {
	if c == nil || c.json == nil || len(c.rcs) != len(rcs) {
		return nil, false
	}
	for i, rc := range rcs {
		if c.rcs[i] != rc {
			return nil, false
		}
	}
	return c.json, true
}

// ResourceChange is the planned change of one instance.
type ResourceChange struct {
	Address  string `json:"address"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Index    any    `json:"index,omitempty"` // int for count, string for for_each
	Provider string `json:"provider"`
	Action   Action `json:"action"`
	// Reason explains the action: "new", "config changed", "drift", "replace requested",
	// "tainted", "removed from configuration", "destroy", "gone".
	Reason string `json:"reason,omitempty"`
	// Before and After are the attributes (arguments and derived figures) as JSON
	// objects; Before is null for create and After for delete.
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
	// AfterUnknown lists attributes known only after apply.
	AfterUnknown []string `json:"after_unknown,omitempty"`
	// Derived lists which attributes of After are derived figures.
	Derived []string `json:"derived,omitempty"`
	// ReplacePaths lists the attributes whose change forces the replacement.
	ReplacePaths []string `json:"replace_paths,omitempty"`
	// ChangedAttributes lists the top-level attributes that differ between Before and
	// After (for update and replace).
	ChangedAttributes []string `json:"changed_attributes,omitempty"`
	DeclRange         *Range   `json:"decl_range,omitempty"`
	// SensitiveAttributes lists attributes whose values derive from sensitive
	// variables: every rendering, plan JSON output and policy input redacts them (the
	// plan file keeps them, so apply can use them).
	SensitiveAttributes []string `json:"sensitive_attributes,omitempty"`

	// Fields apply needs.
	PriorID             string   `json:"prior_id,omitempty"`
	ConfigHash          string   `json:"config_hash,omitempty"`
	Dependencies        []string `json:"dependencies,omitempty"`
	CreateBeforeDestroy bool     `json:"create_before_destroy,omitempty"`
	PreventDestroy      bool     `json:"prevent_destroy,omitempty"`
	// RecordOnly marks a no-op or read whose state entry must still be rewritten (a new
	// configuration hash, or refreshed attributes), without calling the provider.
	RecordOnly bool `json:"record_only,omitempty"`
}

// FacilityImpact is a facility's figures before and after the plan; nil Before means
// the facility is new, nil After that it goes away.
type FacilityImpact struct {
	Address string                  `json:"address"`
	Before  *schema.FacilitySummary `json:"before"`
	After   *schema.FacilitySummary `json:"after"`
}

// Range and Pos are source ranges in the plan document (see diag.Range).
type (
	Range = diag.Range
	Pos   = diag.Pos
)

// Diagnostic is a diagnostic in the plan document.
type Diagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Address  string `json:"address,omitempty"`
	Range    *Range `json:"range,omitempty"`
}

// Counts tallies the actions of a plan.
type Counts struct{ Add, Change, Replace, Destroy, Read int }

// Counts returns how many instances each action touches.
func (p *Plan) Counts() Counts {
	var c Counts
	for _, rc := range p.ResourceChanges {
		switch rc.Action {
		case Create:
			c.Add++
		case Update:
			c.Change++
		case Replace:
			c.Replace++
		case Delete:
			c.Destroy++
		case Read:
			c.Read++
		}
	}
	return c
}

// NeedsApply reports whether applying the plan would change anything, state included:
// a change, or a record-only entry (a new configuration hash, refreshed attributes,
// sensitive names to record).
func (p *Plan) NeedsApply() bool {
	for _, rc := range p.ResourceChanges {
		if rc.Action != NoOp || rc.RecordOnly {
			return true
		}
	}
	return false
}

// HasChanges reports whether applying the plan would change any real object.
func (p *Plan) HasChanges() bool {
	for _, rc := range p.ResourceChanges {
		if rc.Action != NoOp {
			return true
		}
	}
	return false
}
