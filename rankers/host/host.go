// Package host runs ranker plugins for the server: it starts the built-in
// rankers by re-executing the server binary and the external ones from a
// directory (pinned by SHA-256), puts a deadline on every call, serves from
// the fallback ranker when a ranker is slow, crashed or cannot answer,
// restarts crashed rankers with backoff (re-importing their last model), and
// kills every plugin process on Close.
package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Errors returned by Host methods, wrapped with context.
var (
	// ErrUnknownRanker means no ranker of that name is configured.
	ErrUnknownRanker = errors.New("unknown ranker")

	// ErrUnavailable means the ranker is not running (crashed and not yet
	// back, failed, or refused) and, for reads, the fallback could not
	// answer either.
	ErrUnavailable = errors.New("ranker unavailable")

	// ErrRefused means an external ranker was not started because it is
	// missing from the manifest, missing from disk, or its SHA-256 does not
	// match the manifest. Its Status says which.
	ErrRefused = errors.New("ranker refused")

	// ErrProtocolVersion means a ranker binary speaks another version of the
	// plugin protocol than this host (sdk.ProtocolVersion); it must be
	// rebuilt against this SDK.
	ErrProtocolVersion = errors.New("plugin protocol version mismatch")

	// ErrClosed means the Host has been closed.
	ErrClosed = errors.New("ranker host closed")
)

// Config configures a Host. Zero durations take the documented defaults.
type Config struct {
	// Self is the path of the server's own binary (os.Executable()). Each
	// built-in ranker runs as `Self ranker <name>`, which must call
	// builtin.Serve(name).
	Self string

	// Builtins names the built-in rankers to start (see builtin.Names).
	Builtins []string

	// Dir is a directory of external ranker binaries, each listed with its
	// SHA-256 in Dir/rankers.json (see Manifest). Empty means none.
	Dir string

	// CallTimeout bounds one Recommend or Similar call to a ranker; past it
	// the fallback answers. Default 500ms.
	CallTimeout time.Duration

	// BatchTimeout bounds one RecommendBatch call (BatchSize queries).
	// Default 60s.
	BatchTimeout time.Duration

	// BatchSize is how many queries go to a ranker in one call. Default 1024.
	BatchSize int

	// TrainTimeout bounds Train, Export and Import, including the re-import
	// of a model into a restarted ranker. Default 1h.
	TrainTimeout time.Duration

	// StartTimeout bounds starting a ranker process up to its handshake and
	// Describe. Default 30s.
	StartTimeout time.Duration

	// Fallback names the ranker that answers when another cannot. It must
	// be one of Builtins or the external rankers. Default "popular".
	Fallback string

	// PingInterval is how often running rankers are health-checked; a
	// ranker that fails PingFailures checks in a row is restarted. Default
	// 5s; negative disables the checks (crashes are still noticed on calls).
	PingInterval time.Duration

	// PingTimeout bounds one health check. Default 2s.
	PingTimeout time.Duration

	// PingFailures is how many failed health checks in a row restart a
	// ranker. Default 3.
	PingFailures int

	// RestartBackoff is the delay before restarting a crashed ranker. It
	// doubles after every failed start and every crash soon after a start,
	// up to MaxRestartBackoff. Defaults 100ms and 30s.
	RestartBackoff, MaxRestartBackoff time.Duration

	// MaxStartFailures is how many starts in a row may fail before a ranker
	// is marked FAILED and left alone. Default 8.
	MaxStartFailures int

	// Env is added to the environment of every ranker process (which
	// otherwise inherits the host's), in "KEY=value" form.
	Env []string

	// Logger receives the host's log and the rankers' stderr. Default
	// slog.Default().
	Logger *slog.Logger

	// OnRestart, if set, is called after a crashed ranker was restarted
	// (for metrics).
	OnRestart func(name string)
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.CallTimeout, 500*time.Millisecond)
	def(&c.BatchTimeout, 60*time.Second)
	def(&c.TrainTimeout, time.Hour)
	def(&c.StartTimeout, 30*time.Second)
	def(&c.PingInterval, 5*time.Second)
	def(&c.PingTimeout, 2*time.Second)
	def(&c.RestartBackoff, 100*time.Millisecond)
	def(&c.MaxRestartBackoff, 30*time.Second)
	if c.BatchSize <= 0 {
		c.BatchSize = 1024
	}
	if c.PingFailures <= 0 {
		c.PingFailures = 3
	}
	if c.MaxStartFailures <= 0 {
		c.MaxStartFailures = 8
	}
	if c.Fallback == "" {
		c.Fallback = popular.Name
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// State is where a ranker is in its life.
type State string

// The states of a ranker.
const (
	// StateRunning: the process is up and answering.
	StateRunning State = "RUNNING"
	// StateRestarting: the process died or is being (re)started; calls go
	// to the fallback meanwhile.
	StateRestarting State = "RESTARTING"
	// StateFailed: starting failed MaxStartFailures times in a row, or the
	// binary speaks another protocol version; the host has given up.
	StateFailed State = "FAILED"
	// StateRefused: an external binary not in the manifest, missing, or
	// with the wrong SHA-256; it was never run.
	StateRefused State = "REFUSED"
)

// Status describes one ranker for operators and the `rankers` query.
type Status struct {
	// Name is the configured name.
	Name string
	// Info is what the ranker said about itself (zero until it first ran).
	Info sdk.Info
	// State is where the ranker is in its life.
	State State
	// Restarts counts the restarts after crashes since the Host started.
	Restarts int
	// Builtin is true for a built-in ranker, false for an external one.
	Builtin bool
	// Path is the binary that runs the ranker.
	Path string
	// PID is the process id while the ranker runs, else 0.
	PID int
	// ModelVersion identifies the model the host last trained or imported
	// into the ranker, if any; a restarted ranker gets it back.
	ModelVersion string
	// LastError is the last thing that went wrong, if anything did.
	LastError string
}

// Result is a ranking and who made it.
type Result struct {
	// Items is the ranking, best first.
	Items []sdk.Scored
	// Ranker names the ranker that actually answered.
	Ranker string
	// Fallback is true when Ranker is the fallback, not the one asked.
	Fallback bool
	// Reason says why the fallback answered ("timeout", "crashed", ...).
	Reason string
	// Err is set by RecommendBatch for a query that failed on its own;
	// single calls return their error instead.
	Err error
}

// Host runs ranker plugins. Its methods are safe for concurrent use.
type Host struct {
	cfg     Config
	log     *slog.Logger
	rankers map[string]*ranker
	names   []string
	spawn   *spawner

	// local is an in-process copy of the fallback ranker, loaded from its
	// snapshots, that answers when the fallback's process is down too.
	local      sdk.Ranker
	localReady atomic.Bool
	localMu    sync.Mutex // serialises loads of local

	closing chan struct{}
	lifeMu  sync.Mutex // orders goTracked against Close
	closed  atomic.Bool
	wg      sync.WaitGroup // restart loops, health checks, kills
}

// goTracked runs f on a goroutine that Close waits for, unless the Host is
// closed, in which case it reports false and does nothing.
func (h *Host) goTracked(f func()) bool {
	h.lifeMu.Lock()
	defer h.lifeMu.Unlock()
	if h.closed.Load() {
		return false
	}
	h.wg.Go(f)
	return true
}

// New starts the configured rankers and returns once each has started or
// failed to (a failed one keeps being retried in the background). It fails
// only for a configuration it cannot work with.
func New(ctx context.Context, cfg Config) (*Host, error) {
	cfg.setDefaults()
	if len(cfg.Builtins) > 0 && cfg.Self == "" {
		return nil, errors.New("ranker host: Config.Self is needed to start built-in rankers")
	}
	h := &Host{
		cfg: cfg, log: cfg.Logger.With("component", "rankers"),
		rankers: map[string]*ranker{}, closing: make(chan struct{}),
	}
	for _, name := range cfg.Builtins {
		if _, dup := h.rankers[name]; dup {
			return nil, fmt.Errorf("ranker host: built-in %q listed twice", name)
		}
		h.rankers[name] = &ranker{h: h, name: name, builtin: true, path: cfg.Self, args: []string{"ranker", name}}
	}
	if cfg.Dir != "" {
		ext, err := h.discover(cfg.Dir)
		if err != nil {
			return nil, err
		}
		for _, r := range ext {
			if _, dup := h.rankers[r.name]; dup {
				if r.state != StateRefused {
					r.refuse(fmt.Errorf("%w: external ranker %q has the name of another ranker", ErrRefused, r.name))
				}
				r.name += " (" + r.path + ")"
			}
			h.rankers[r.name] = r
		}
	}
	if _, ok := h.rankers[cfg.Fallback]; !ok {
		return nil, fmt.Errorf("ranker host: fallback ranker %q is not configured", cfg.Fallback)
	}
	if cfg.Fallback == popular.Name {
		h.local = popular.New()
	}
	for name := range h.rankers {
		h.names = append(h.names, name)
	}
	slices.Sort(h.names)

	h.spawn = newSpawner()
	var wg sync.WaitGroup
	for _, r := range h.rankers {
		if r.state == StateRefused {
			continue
		}
		wg.Go(func() { r.firstStart(ctx) })
	}
	wg.Wait()
	if cfg.PingInterval > 0 {
		h.goTracked(h.healthLoop)
	}
	return h, nil
}

// Rankers returns the status of every ranker, sorted by name.
func (h *Host) Rankers() []Status {
	out := make([]Status, 0, len(h.names))
	for _, n := range h.names {
		out = append(out, h.rankers[n].status())
	}
	return out
}

// Close kills every ranker process and waits for them to exit. Calls made
// after Close fail with ErrClosed. It is safe to call more than once.
func (h *Host) Close() error {
	h.lifeMu.Lock()
	if h.closed.Swap(true) {
		h.lifeMu.Unlock()
		return nil
	}
	close(h.closing)
	h.lifeMu.Unlock()
	h.wg.Wait() // restart loops and health checks end first: nothing new starts
	var wg sync.WaitGroup
	for _, r := range h.rankers {
		wg.Go(r.stop)
	}
	wg.Wait()
	h.spawn.close()
	return nil
}

func (h *Host) ranker(name string) (*ranker, error) {
	if h.closed.Load() {
		return nil, ErrClosed
	}
	r, ok := h.rankers[name]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownRanker, name)
	}
	return r, nil
}

// setLocal loads a snapshot of the fallback ranker into the in-process copy.
func (h *Host) setLocal(snapshot []byte) {
	if h.local == nil {
		return
	}
	h.localMu.Lock()
	defer h.localMu.Unlock()
	if err := h.local.Load(bytes.NewReader(snapshot)); err != nil {
		h.log.Warn("in-process fallback could not load the fallback's snapshot", "ranker", h.cfg.Fallback, "err", err)
		return
	}
	h.localReady.Store(true)
}
