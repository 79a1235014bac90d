package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/fabrica-iac/fabrica/policies"
)

// SARIFSchema is the $schema of the SARIF documents SARIF writes.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// Rule ids of waiver notes in SARIF.
const (
	ruleWaiverExpired   = "fabrica.waiver.expired"
	ruleWaiverUnmatched = "fabrica.waiver.unmatched"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
	// ColumnKind says columns count Unicode code points, as HCL's do.
	ColumnKind string `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name,omitempty"`
	ShortDescription     *sarifText      `json:"shortDescription,omitempty"`
	FullDescription      *sarifText      `json:"fullDescription,omitempty"`
	Help                 *sarifHelp      `json:"help,omitempty"`
	HelpURI              string          `json:"helpUri,omitempty"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags []string `json:"tags"`
	// SecuritySeverity lets GitHub rank security findings (0-10).
	SecuritySeverity string `json:"security-severity,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations,omitempty"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
	EndLine     int `json:"endLine,omitempty"`
	EndColumn   int `json:"endColumn,omitempty"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
}

// SARIF writes the report as a SARIF 2.1.0 log for code scanning (GitHub, GitLab, Azure
// DevOps), so findings appear inline on the .fab.hcl lines in code review. Every rule
// of the report is described (title, description, help URI, default level); results
// carry level error (deny), warning (warn) or note (waived, with an accepted
// suppression that holds the waiver's reason), a physical location (file relative to
// the repository root, %SRCROOT%, with start and end line and column) and the resource
// address as a logical location. Waiver notes are warnings at the waiver block.
// toolVersion is fabrica's version.
func SARIF(w io.Writer, r *policies.Report, toolVersion string) error {
	run := sarifRun{ColumnKind: "unicodeCodePoints", Results: []sarifResult{}}
	run.Tool.Driver = sarifDriver{Name: "fabrica", Version: toolVersion,
		InformationURI: "https://github.com/fabrica-iac/fabrica", Rules: []sarifRule{}}
	index := map[string]int{}
	for _, rule := range r.Rules {
		index[rule.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(rule))
	}
	for _, f := range r.Findings {
		i, ok := index[f.RuleID]
		if !ok { // a finding of a rule the report does not describe
			i = len(run.Tool.Driver.Rules)
			index[f.RuleID] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRuleOf(policies.RuleInfo{ID: f.RuleID, Severity: f.Severity}))
		}
		res := sarifResult{RuleID: f.RuleID, RuleIndex: i, Level: sarifLevel(f.Severity), Message: sarifText{Text: f.Message},
			PartialFingerprints: map[string]string{"fabricaFinding/v1": fingerprint(f.RuleID, f.Address, f.Attribute)}}
		loc := sarifLocation{PhysicalLocation: sarifPhysicalOf(f.Range)}
		if f.Address != "" {
			loc.LogicalLocations = []sarifLogical{{FullyQualifiedName: f.Address, Kind: "resource"}}
		}
		if loc.PhysicalLocation != nil || loc.LogicalLocations != nil {
			res.Locations = []sarifLocation{loc}
		}
		if f.Severity == policies.Waived {
			res.Suppressions = []sarifSuppression{{Kind: "external", Status: "accepted",
				Justification: f.Waiver.Reason + " (waived until " + f.Waiver.ExpiryString() + ")"}}
		}
		run.Results = append(run.Results, res)
	}
	for _, n := range r.WaiverNotes {
		id := ruleWaiverUnmatched
		if n.Kind == policies.WaiverExpired {
			id = ruleWaiverExpired
		}
		i, ok := index[id]
		if !ok {
			i = len(run.Tool.Driver.Rules)
			index[id] = i
			run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, waiverRule(id))
		}
		res := sarifResult{RuleID: id, RuleIndex: i, Level: "warning", Message: sarifText{Text: n.Message},
			PartialFingerprints: map[string]string{"fabricaFinding/v1": fingerprint(id, n.Waiver.Rule, n.Waiver.Address)}}
		if p := sarifPhysicalOf(n.Waiver.Range); p != nil {
			res.Locations = []sarifLocation{{PhysicalLocation: p}}
		}
		run.Results = append(run.Results, res)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

func sarifRuleOf(rule policies.RuleInfo) sarifRule {
	level := sarifLevel(rule.Severity)
	area, _, _ := strings.Cut(rule.ID, ".")
	sr := sarifRule{ID: rule.ID, Name: ruleName(rule.ID), HelpURI: rule.URL,
		DefaultConfiguration: sarifRuleConfig{Level: level}, Properties: sarifRuleProps{Tags: []string{"fabrica", area}}}
	if rule.Title != "" {
		sr.ShortDescription = &sarifText{Text: rule.Title}
	}
	if rule.Description != "" {
		sr.FullDescription = &sarifText{Text: rule.Description}
		help := rule.Description
		if rule.File != "" {
			help += "\n\nPolicy: " + rule.File
		}
		sr.Help = &sarifHelp{Text: help, Markdown: help}
	}
	if area == "security" {
		sr.Properties.SecuritySeverity = "7.0"
		if rule.Severity == policies.Warn {
			sr.Properties.SecuritySeverity = "4.0"
		}
	}
	return sr
}

func waiverRule(id string) sarifRule {
	title := "Expired policy waiver"
	text := "A waiver's expiry has passed: the findings it covered count again. Fix them, or renew the waiver with a new expiry and reason."
	if id == ruleWaiverUnmatched {
		title = "Unused policy waiver"
		text = "A waiver matches no finding: remove it, or check its rule id and address."
	}
	return sarifRule{ID: id, Name: ruleName(id), ShortDescription: &sarifText{Text: title}, FullDescription: &sarifText{Text: text},
		DefaultConfiguration: sarifRuleConfig{Level: "warning"}, Properties: sarifRuleProps{Tags: []string{"fabrica", "waiver"}}}
}

// ruleName turns "energy.pue.deny" into "EnergyPueDeny", SARIF's identifier-like name.
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(id, func(r rune) bool { return r == '.' || r == '_' || r == '-' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func sarifLevel(s policies.Severity) string {
	switch s {
	case policies.Deny:
		return "error"
	case policies.Warn:
		return "warning"
	}
	return "note"
}

// sarifPhysicalOf converts a range: a relative file name becomes a URI relative to
// %SRCROOT%, an absolute one a file URI.
func sarifPhysicalOf(rng *policies.Range) *sarifPhysical {
	if rng == nil || rng.Filename == "" {
		return nil
	}
	p := &sarifPhysical{}
	if path.IsAbs(rng.Filename) {
		p.ArtifactLocation.URI = (&url.URL{Scheme: "file", Path: rng.Filename}).String()
	} else {
		p.ArtifactLocation = sarifArtifact{URI: (&url.URL{Path: rng.Filename}).String(), URIBaseID: "%SRCROOT%"}
	}
	if rng.Start.Line > 0 {
		reg := &sarifRegion{StartLine: rng.Start.Line, StartColumn: rng.Start.Column}
		if rng.End.Line >= rng.Start.Line {
			reg.EndLine, reg.EndColumn = rng.End.Line, rng.End.Column
		}
		p.Region = reg
	}
	return p
}

// fingerprint identifies a finding across runs and line moves, so code scanning keeps
// one alert per rule, resource and attribute.
func fingerprint(rule, address, attribute string) string {
	h := sha256.Sum256([]byte(rule + "\x00" + address + "\x00" + attribute))
	return hex.EncodeToString(h[:16])
}
