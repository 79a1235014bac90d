// Package format is the library behind "fabrica fmt": it rewrites fabrica's
// native-syntax configuration files (*.fab.hcl) into the canonical layout.
//
// The package owns:
//   - the canonical formatting of one file's bytes (Source): the file must
//     parse as HCL native syntax, then hclwrite.Format aligns "=" and comments
//     and fixes indentation, line endings become LF, and the file ends in
//     exactly one newline. Blank lines are kept as written, and nothing but
//     whitespace and line endings ever changes;
//   - finding the files to format under the paths the user names, optionally
//     recursively (Run), skipping hidden directories and testdata;
//   - check mode, atomic write-back that keeps each file's mode, and unified
//     diffs of the changes (a small line-based Myers diff of its own).
//
// JSON configuration files (*.fab.json) are never touched. The command-line
// wiring (flags, printing results and diagnostics, exit codes) lives with the
// fabrica command, not here.
package format
