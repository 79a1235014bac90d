package providerv1

// The generated files (provider.pb.go, provider_grpc.pb.go) are committed; regenerate
// them after editing provider.proto. The generators are the versions pinned in go.mod.
//go:generate sh ../gen.sh
