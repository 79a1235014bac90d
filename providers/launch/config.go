package launch

import (
	"encoding/json"
	"sort"

	"github.com/fabrica-iac/fabrica/providers"
)

// ConfigArgs decodes the block of the provider named provider into its arguments: the
// names of those set (not null), sorted so that diagnostics come in a stable order, and
// the values by name. An absent or null block sets none; one that is not an object is an
// error. What each argument means is the provider's.
func ConfigArgs(provider string, raw json.RawMessage) ([]string, map[string]json.RawMessage, []providers.Diagnostic) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, []providers.Diagnostic{providers.Errorf("", "Invalid provider configuration", "The "+provider+" provider block must be an object: "+err.Error())}
	}
	names := make([]string, 0, len(m))
	for k, v := range m {
		if string(v) != "null" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names, m, nil
}
