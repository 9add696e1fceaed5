package eval

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// ErrUnknownRanker means a ranker name is neither built in, nor a plugin
// path, nor listed in the rankers directory's manifest.
var ErrUnknownRanker = errors.New("unknown ranker")

// Open returns a fresh, untrained Model for a ranker named one of three ways:
// a built-in name (run in-process), a path to a plugin binary (anything with
// a path separator; run as a plugin process), or a name in rankersDir's
// rankers.json manifest (run as a plugin process after its SHA-256 is
// checked against the manifest, as the server does).
func Open(ctx context.Context, name, rankersDir string) (Model, error) {
	if r, err := builtin.New(name); err == nil {
		return InProcess(r), nil
	}
	if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
		return OpenPlugin(ctx, name, nil)
	}
	if rankersDir != "" {
		raw, err := os.ReadFile(filepath.Join(rankersDir, host.ManifestFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		var man host.Manifest
		if err == nil {
			if err := json.Unmarshal(raw, &man); err != nil {
				return nil, fmt.Errorf("%s: %w", filepath.Join(rankersDir, host.ManifestFile), err)
			}
		}
		if e, ok := man[name]; ok {
			if e.File == "" || filepath.Base(e.File) != e.File {
				return nil, fmt.Errorf("ranker %q: manifest file %q must be a plain file name", name, e.File)
			}
			sum, err := hex.DecodeString(strings.ToLower(e.SHA256))
			if err != nil || len(sum) != sha256.Size {
				return nil, fmt.Errorf("ranker %q: manifest sha256 %q is not a hex SHA-256", name, e.SHA256)
			}
			return OpenPlugin(ctx, filepath.Join(rankersDir, e.File), sum)
		}
	}
	return nil, fmt.Errorf("%w %q: not built in %v, not a path, not in the manifest of --rankers-dir", ErrUnknownRanker, name, builtin.Names())
}

// OpenPlugin starts the ranker plugin binary at path and returns it as a
// Model. A non-nil checksum pins the binary's SHA-256.
func OpenPlugin(ctx context.Context, path string, checksum []byte) (Model, error) {
	var secure *plugin.SecureConfig
	if checksum != nil {
		secure = &plugin.SecureConfig{Checksum: checksum, Hash: sha256.New()}
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          plugin.PluginSet{sdk.PluginName: &sdk.Plugin{}},
		Cmd:              exec.Command(path),
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn, Name: "plugin"}),
		SyncStdout:       io.Discard,
		SyncStderr:       os.Stderr,
	})
	cp, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("start ranker plugin %s: %w", path, err)
	}
	raw, err := cp.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("start ranker plugin %s: %w", path, err)
	}
	c := raw.(*sdk.Client)
	info, err := c.Describe(ctx)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("describe ranker plugin %s: %w", path, err)
	}
	return &pluginModel{client: client, rpc: c, info: info}, nil
}

type pluginModel struct {
	client *plugin.Client
	rpc    *sdk.Client
	info   sdk.Info
}

func (m *pluginModel) Info() sdk.Info { return m.info }

func (m *pluginModel) Train(ctx context.Context, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	return m.rpc.Train(ctx, d, p)
}

func (m *pluginModel) RecommendBatch(ctx context.Context, qs []sdk.Query) ([]sdk.BatchResult, error) {
	return m.rpc.RecommendBatch(ctx, qs)
}

func (m *pluginModel) Close() error {
	m.client.Kill()
	return nil
}
