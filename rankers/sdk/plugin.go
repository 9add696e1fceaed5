package sdk

import (
	"context"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	rankerpb "github.com/limelight-hq/limelight/rankers/proto"
)

// ProtocolVersion is the version of the plugin contract this SDK speaks. It
// changes only when rankers/proto changes incompatibly; the host refuses a
// ranker built against another version.
const ProtocolVersion = 1

// PluginName is the key of the ranker in go-plugin's plugin set.
const PluginName = "ranker"

// Handshake is shared by the host and every ranker. go-plugin checks the
// magic cookie (so that running a ranker by hand prints a helpful message
// instead of hanging) and the protocol version.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "LIMELIGHT_RANKER_PLUGIN",
	MagicCookieValue: "8f3c1d0e-ranker-7b2a-limelight",
}

// maxMsgSize bounds one gRPC message a ranker accepts. Streams keep messages
// near chunkSize; batches are the large ones.
const maxMsgSize = 256 << 20

// Plugin adapts a Ranker to go-plugin. The host uses it with a nil Impl to
// dispense a *Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the ranker to serve; nil on the host side.
	Impl Ranker
}

// GRPCServer registers Impl on s (go-plugin calls it in the ranker process).
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	rankerpb.RegisterRankerServer(s, &server{impl: p.Impl})
	return nil
}

// GRPCClient returns a *Client talking over conn (go-plugin calls it in the
// host process).
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn), nil
}

// Serve serves r as a ranker plugin over go-plugin's gRPC protocol and
// returns when the host tells the plugin to stop. Call it from main; the
// process must not write to stdout before it, since go-plugin's handshake
// uses stdout.
//
// Logs from hclog or any JSON lines with "@level" and "@message" written to
// stderr reach the host's log.
func Serve(r Ranker) {
	go exitWithParent(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &Plugin{Impl: r}},
		GRPCServer:      NewGRPCServer,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       r.Info().Name,
			Output:     os.Stderr,
			JSONFormat: true,
			Level:      hclog.Info,
		}),
	})
}

// NewGRPCServer is the gRPC server factory Serve hands to go-plugin. It is
// exported for rankers that call plugin.Serve themselves.
func NewGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	opts = append(opts, grpc.MaxRecvMsgSize(maxMsgSize), grpc.MaxSendMsgSize(maxMsgSize))
	return grpc.NewServer(opts...)
}

// exitWithParent ends the process when its parent goes away. The host asks
// Linux to do this with a death signal; this is the portable backstop (and
// covers a ranker started by something that did not ask).
func exitWithParent(ppid int, every time.Duration) {
	if ppid <= 1 {
		return
	}
	for range time.Tick(every) {
		if os.Getppid() != ppid {
			os.Exit(2)
		}
	}
}
