// Package report renders a policies.Report for people and machines: Text for the
// terminal, JSON (a versioned document), JUnit XML for CI dashboards, SARIF 2.1.0 for code
// scanning (inline annotations in code review), GitHub workflow commands, and Markdown
// for a pull-request comment.
//
// Every renderer is deterministic: findings come in the report's order (sorted by file,
// line, column, rule id, address and message), rules by id, and waiver notes in the order
// the waivers were given; nothing depends on map order or the clock, except the JSON
// document's checked_at, which is the report's CheckedAt.
//
// The package renders only: evaluation belongs to package policies, and choosing a format
// and an exit code to the CLI.
package report
