package schema

import "github.com/agext/levenshtein"

// nameSuggestion returns the name closest to given when it is within a few edits, or "".
func nameSuggestion(given string, names []string) string {
	best, bestDist := "", 4
	for _, n := range names {
		if d := levenshtein.Distance(given, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// Suggest returns the closest of names to given, or "" when none is close; exported for
// the planner's reference diagnostics.
func Suggest(given string, names []string) string { return nameSuggestion(given, names) }
