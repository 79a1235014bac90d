// Package providers is the provider interface: the Go types through which the planner
// reads, plans and changes the real world. It has no protocol in it; providers/plugin
// carries these calls over go-plugin's gRPC, and built-in providers (providers/sim, ...)
// implement them directly.
//
// The interface is batch-first: Read and Plan take every instance at once and Apply is a
// stream of changes, because at 100,000 instances a call per instance costs seconds.
//
// Attribute values cross the interface as JSON objects (Attrs), the same form state and
// the plan JSON keep them in, so no value is converted twice.
package providers
