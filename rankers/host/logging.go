package host

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger returns an hclog.Logger (what go-plugin logs to, and how it
// relays the rankers' stderr) that writes to log.
func newHCLogger(log *slog.Logger) hclog.Logger {
	level := hclog.Info
	if log.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{
		Name: "plugin", Output: &hclogWriter{log: log}, JSONFormat: true, Level: level,
	})
}

// hclogWriter turns hclog's JSON lines into slog records.
type hclogWriter struct{ log *slog.Logger }

func (w *hclogWriter) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimSpace(p), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			w.log.Info(string(line))
			continue
		}
		level := slog.LevelInfo
		switch lv, _ := m["@level"].(string); strings.ToLower(lv) {
		case "trace", "debug":
			level = slog.LevelDebug
		case "warn":
			level = slog.LevelWarn
		case "error":
			level = slog.LevelError
		}
		msg, _ := m["@message"].(string)
		keys := make([]string, 0, len(m))
		for k := range m {
			if !strings.HasPrefix(k, "@") || k == "@module" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		attrs := make([]any, 0, 2*len(keys))
		for _, k := range keys {
			attrs = append(attrs, strings.TrimPrefix(k, "@"), m[k])
		}
		w.log.Log(context.Background(), level, msg, attrs...)
	}
	return len(p), nil
}

// lineLogger logs what a ranker writes to its stdout or stderr after the
// handshake (go-plugin forwards it over gRPC), a line per record.
type lineLogger struct {
	log    *slog.Logger
	stream string
}

func (l *lineLogger) Write(p []byte) (int, error) {
	for line := range bytes.SplitSeq(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			l.log.Info(string(line), "stream", l.stream)
		}
	}
	return len(p), nil
}
