package policies

import (
	"fmt"
	"strings"
	"time"
)

// Waiver accepts the findings of one rule (or of every rule of a package or area) for
// one resource or a set of resources, with a reason, until it expires. It is the
// `waiver "RULE" { address, reason, expires }` block of `fabrica { policy { ... } }`.
type Waiver struct {
	// Rule is a rule id ("energy.pue.deny"), a package ("energy.pue": every rule of it)
	// or an area ("energy": every rule under it).
	Rule string `json:"rule"`
	// Address selects resources: empty for every resource; an instance address
	// ("hardware.dgx[3]"); a resource address, which covers all its instances
	// ("hardware.dgx"); or a pattern where * stands for any run of characters
	// ("hardware.dgx[*]", "storage.*").
	Address string `json:"address,omitempty"`
	// Reason says why the finding is accepted; it is required.
	Reason string `json:"reason"`
	// Expires is the instant the waiver stops applying; required. ParseExpiry reads
	// the configuration's "YYYY-MM-DD" (the end of that day, UTC) or RFC 3339.
	Expires time.Time `json:"expires"`
	// Range locates the waiver block, for diagnostics and annotations.
	Range *Range `json:"range,omitempty"`
}

// ParseExpiry parses a waiver's expires value: a date "YYYY-MM-DD", meaning the waiver
// holds through that day (it expires at the next midnight UTC), or an RFC 3339 time.
func ParseExpiry(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.AddDate(0, 0, 1), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expires = %q is not a date: write it as YYYY-MM-DD (the waiver holds through that day, UTC) or as an RFC 3339 time such as 2026-12-31T18:00:00Z", s)
}

// Expired reports whether the waiver no longer applies at now.
func (w *Waiver) Expired(now time.Time) bool { return !now.Before(w.Expires) }

// MatchesRule reports whether the waiver names the rule id, its package or an area
// above it.
func (w *Waiver) MatchesRule(ruleID string) bool {
	return ruleID == w.Rule || strings.HasPrefix(ruleID, w.Rule+".")
}

// MatchesAddress reports whether the waiver's address selects addr.
func (w *Waiver) MatchesAddress(addr string) bool {
	switch {
	case w.Address == "" || w.Address == addr:
		return true
	case strings.Contains(w.Address, "*"):
		return globMatch(w.Address, addr)
	default:
		return strings.HasPrefix(addr, w.Address+"[")
	}
}

// globMatch matches s against a pattern in which * stands for any run of characters
// and every other character for itself.
func globMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return len(parts) > 1 && strings.HasSuffix(s, last)
}

// ExpiryString renders the waiver's expiry for people: the last day it holds
// (YYYY-MM-DD) when it expires at midnight UTC, as a date from ParseExpiry does, else
// the instant in RFC 3339.
func (w *Waiver) ExpiryString() string {
	u := w.Expires.UTC()
	if u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 && u.Nanosecond() == 0 {
		return u.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	return u.Format(time.RFC3339)
}

// applyWaivers turns findings that a waiver in force covers into Waived, attaches
// expired waivers to the findings they would have covered, and reports expired and
// unmatched waivers.
func applyWaivers(findings []Finding, waivers []Waiver, now time.Time) []WaiverNote {
	matched := make([]int, len(waivers))
	for i := range findings {
		f := &findings[i]
		var expired *Waiver
		for j := range waivers {
			w := &waivers[j]
			if !w.MatchesRule(f.RuleID) || !w.MatchesAddress(f.Address) {
				continue
			}
			matched[j]++
			if w.Expired(now) {
				if expired == nil {
					expired = w
				}
				continue
			}
			if f.Severity != Waived {
				f.Severity, f.Waiver = Waived, w
			}
		}
		if f.Severity != Waived && expired != nil {
			f.Waiver = expired
		}
	}
	var notes []WaiverNote
	for j, w := range waivers {
		subject := fmt.Sprintf("waiver %q", w.Rule)
		if w.Address != "" {
			subject += fmt.Sprintf(" for %s", w.Address)
		}
		switch {
		case w.Expired(now) && matched[j] > 0:
			covered := "the finding it covered counts again. Fix it"
			if matched[j] > 1 {
				covered = fmt.Sprintf("the %d findings it covered count again. Fix them", matched[j])
			}
			notes = append(notes, WaiverNote{Kind: WaiverExpired, Waiver: w, Matched: matched[j], Message: fmt.Sprintf(
				"%s expired after %s: %s, or renew the waiver with a new expires and reason.", subject, w.ExpiryString(), covered)})
		case w.Expired(now):
			notes = append(notes, WaiverNote{Kind: WaiverExpired, Waiver: w, Message: fmt.Sprintf(
				"%s expired after %s and matches no finding any more; remove it.", subject, w.ExpiryString())})
		case matched[j] == 0:
			notes = append(notes, WaiverNote{Kind: WaiverUnmatched, Waiver: w, Message: fmt.Sprintf(
				"%s matches no finding; remove it, or check its rule id and address.", subject)})
		}
	}
	return notes
}
