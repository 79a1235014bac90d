// Package plugin carries the provider interface of package providers across a process
// boundary, over hashicorp/go-plugin's gRPC transport and the protocol of
// providers/proto/v1. Both sides live here:
//
//   - in a plugin process, Serve(p) serves a providers.Provider (the server adapter is
//     NewGRPCServer);
//   - in fabrica, Launch starts a plugin executable and returns a Client whose
//     Provider() is an ordinary providers.Provider (the client adapter is
//     NewGRPCClient); Discover finds external plugins (fabrica-provider-NAME in
//     .fabrica/plugins and $FABRICA_PLUGIN_PATH).
//
// Built-in providers go through the same boundary: fabrica relaunches itself as
// `fabrica provider serve NAME`, whose main calls Serve.
//
// # Protocol
//
// Handshake fixes the protocol version (1) and the magic cookie. Read and Plan send
// their batch in chunks of at most 2,000 items and about 1 MiB and receive the results
// the same way, so a batch of any size stays far below gRPC's 4 MiB message limit; the
// plugin calls the provider once with the whole batch. Apply is one bidirectional
// stream per call: changes go out as the caller releases them, events come back as the
// provider reports them, and the stream ends once the caller has closed its channel of
// changes and the provider's Apply has returned.
//
// # Errors
//
// What a provider reports (diagnostics, a failed change, an error from Info, Apply or
// Stop) travels inside the protocol's responses and comes out as it went in, with
// errors prefixed by the provider's name. A gRPC error means the transport failed; the
// client turns it into an error, or an error diagnostic for calls that return none,
// that names the provider and, when the plugin process died, says so:
// `provider "sim" exited unexpectedly: signal: killed (during apply)`. A canceled
// context comes back as an error wrapping ctx.Err().
//
// This package owns the transport only: which providers exist and how they are
// configured is the planner's business, and the interface is package providers'.
package plugin
