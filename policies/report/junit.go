package report

import (
	"encoding/xml"
	"fmt"
	"io"

	"github.com/fabrica-iac/fabrica/policies"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit writes the report as JUnit XML for CI dashboards: one test suite per rule,
// with a test case per finding (named by resource address) or one passing case when the
// rule found nothing. A deny is a failure, a warning passes with the message in
// system-out, a waived finding is skipped with the waiver's reason; waiver notes form a
// last suite of passing cases.
func JUnit(w io.Writer, r *policies.Report) error {
	byRule := map[string][]policies.Finding{}
	for _, f := range r.Findings {
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	doc := junitSuites{Name: "fabrica policy check"}
	for _, rule := range r.Rules {
		s := junitSuite{Name: rule.ID}
		for _, f := range byRule[rule.ID] {
			s.Cases = append(s.Cases, junitFinding(f))
		}
		if len(s.Cases) == 0 {
			s.Cases = []junitCase{{Name: "plan", Classname: rule.ID}}
		}
		doc.Suites = append(doc.Suites, s)
	}
	if len(r.WaiverNotes) > 0 {
		s := junitSuite{Name: "waivers"}
		for _, n := range r.WaiverNotes {
			c := junitCase{Name: fmt.Sprintf("%s %s", n.Waiver.Rule, n.Waiver.Address), Classname: "waivers",
				SystemOut: string(n.Kind) + ": " + n.Message}
			if n.Waiver.Range != nil {
				c.File, c.Line = n.Waiver.Range.Filename, n.Waiver.Range.Start.Line
			}
			s.Cases = append(s.Cases, c)
		}
		doc.Suites = append(doc.Suites, s)
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			if c.Failure != nil {
				s.Failures++
			}
			if c.Skipped != nil {
				s.Skipped++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitFinding(f policies.Finding) junitCase {
	name := f.Address
	if name == "" {
		name = "plan"
	}
	if f.Attribute != "" {
		name += " (" + f.Attribute + ")"
	}
	c := junitCase{Name: name, Classname: f.RuleID}
	detail := f.Message
	if f.Range != nil {
		c.File, c.Line = f.Range.Filename, f.Range.Start.Line
		detail = Position(f.Range) + ": " + f.Message
	}
	switch f.Severity {
	case policies.Deny:
		c.Failure = &junitMessage{Message: f.Message, Type: "deny", Text: detail}
	case policies.Warn:
		c.SystemOut = "warning: " + detail
	case policies.Waived:
		c.Skipped = &junitMessage{Message: fmt.Sprintf("waived until %s: %s", f.Waiver.ExpiryString(), f.Waiver.Reason)}
		c.SystemOut = "waived: " + detail
	}
	return c
}
