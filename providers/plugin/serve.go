package plugin

import (
	"log"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
)

// Environment variables of a plugin process.
const (
	// EnvLogLevel is the level a plugin logs at (trace, debug, info, warn, error, off).
	// Launch sets it to its logger's level, so a plugin formats no line fabrica would
	// drop; when it is unset, Serve falls back to EnvLog.
	EnvLogLevel = "FABRICA_PLUGIN_LOG_LEVEL"
	// EnvLog is fabrica's own log level variable, inherited from fabrica's environment.
	EnvLog = "FABRICA_LOG"
)

// Serve serves p over the plugin protocol and returns when fabrica disconnects. It is
// what a plugin binary's main calls, first: nothing may be printed to stdout before it,
// since fabrica reads the handshake from there. Run by hand, without fabrica's magic
// cookie in its environment, it says it is a plugin and exits with status 1.
//
// Inside the plugin, log with hclog.Default() (or the log package): Serve makes both
// write hclog JSON lines to stderr, which fabrica re-emits through its own logger at
// their level. Whatever the plugin writes to os.Stdout or os.Stderr after Serve starts
// reaches fabrica's logger too.
func Serve(p providers.Provider) {
	logger := hclog.New(&hclog.LoggerOptions{
		Level:      pluginLogLevel(),
		Output:     os.Stderr, // the real stderr: Serve redirects os.Stderr later
		JSONFormat: true,
	})
	hclog.SetDefault(logger)
	// The log package's timestamps would hide its lines' levels from fabrica.
	log.SetFlags(0)
	log.SetOutput(logger.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true}))

	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         goplugin.PluginSet{PluginName: &GRPCProviderPlugin{Impl: p}},
		GRPCServer:      newGRPCServerWithLimits,
		Logger:          logger,
	})
}

// newGRPCServerWithLimits is go-plugin's default gRPC server with the message limits
// raised to maxMsgSize, for an item too large for one chunk.
func newGRPCServerWithLimits(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(maxMsgSize), grpc.MaxSendMsgSize(maxMsgSize))
	return goplugin.DefaultGRPCServer(opts)
}

// pluginLogLevel reads the plugin's log level from its environment; Info by default.
func pluginLogLevel() hclog.Level {
	for _, env := range []string{EnvLogLevel, EnvLog} {
		if l := hclog.LevelFromString(os.Getenv(env)); l != hclog.NoLevel {
			return l
		}
	}
	return hclog.Info
}
