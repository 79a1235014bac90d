// Package providerv1 is version 1 of the wire protocol between fabrica and its provider
// plugins: the protobuf messages and gRPC service generated from provider.proto.
//
// Nothing outside providers/plugin should import it: the rest of fabrica speaks the Go
// interface of package providers, and providers/plugin converts between the two. The
// generated files are committed; `go generate ./providers/proto/...` rebuilds them with
// the generator versions pinned in go.mod (see ../gen.sh).
package providerv1
