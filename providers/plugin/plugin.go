package plugin

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
	pb "github.com/fabrica-iac/fabrica/providers/proto/v1"
)

// ProtocolVersion is the plugin protocol version: the go-plugin handshake's
// ProtocolVersion and the proto package's version (fabrica.provider.v1). A plugin built
// against another version is refused at launch with go-plugin's version error.
const ProtocolVersion = 1

// PluginName is the name under which a plugin process serves its provider.
const PluginName = "provider"

// Handshake is what fabrica and a provider plugin must agree on before talking. The
// magic cookie only keeps a plugin binary from being run by hand by mistake (it then
// says so and exits); it is no security measure.
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "FABRICA_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "5b0e8c1d6f2a4e7a9c3b1f08d4e6a2c7-fabrica-provider",
}

// GRPCProviderPlugin is the go-plugin plugin that carries a providers.Provider over gRPC.
// The plugin process sets Impl; fabrica sets Name, which its errors quote. net/rpc is
// not supported.
type GRPCProviderPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	// Impl is the provider served, in the plugin process.
	Impl providers.Provider
	// Name is the provider's name, in fabrica.
	Name string
}

var _ goplugin.GRPCPlugin = (*GRPCProviderPlugin)(nil)

// GRPCServer registers the provider service for Impl.
func (p *GRPCProviderPlugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterProviderServer(s, NewGRPCServer(p.Impl))
	return nil
}

// GRPCClient returns the providers.Provider that calls the plugin on conn.
func (p *GRPCProviderPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return newGRPCClient(p.Name, conn), nil
}
