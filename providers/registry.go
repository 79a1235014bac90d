package providers

import "context"

// Factory starts a provider; the returned close function ends it (for a plugin, it kills
// the process).
type Factory func(ctx context.Context) (Provider, func(), error)
