package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// stableAfter is how long a ranker must have run for its crash not to count
// as a crash loop (which keeps the restart backoff growing).
const stableAfter = time.Minute

// ranker is one configured ranker and its current process, if any.
type ranker struct {
	h        *Host
	name     string
	builtin  bool
	path     string
	args     []string
	checksum []byte // SHA-256 pinned by the manifest; nil for built-ins

	proc        atomic.Pointer[proc] // nil unless RUNNING
	pingFails   atomic.Int32
	lastWarn    atomic.Int64 // unix nanoseconds of the last call warning
	restartLock sync.Mutex   // held by the one restart loop

	mu           sync.Mutex // guards the fields below
	state        State
	info         sdk.Info
	restarts     int
	lastErr      string
	snapshot     []byte // the last model trained, exported or imported
	modelVersion string
	backoff      time.Duration
}

// proc is one running ranker process.
type proc struct {
	client  *plugin.Client
	rpc     *sdk.Client
	pid     int
	started time.Time
}

func (r *ranker) status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{
		Name: r.name, Info: r.info, State: r.state, Restarts: r.restarts, Builtin: r.builtin,
		Path: r.path, ModelVersion: r.modelVersion, LastError: r.lastErr,
	}
	if p := r.proc.Load(); p != nil {
		s.PID = p.pid
	}
	return s
}

func (r *ranker) setState(s State, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state = s
	if err != nil {
		r.lastErr = err.Error()
	}
}

func (r *ranker) refuse(err error) {
	r.setState(StateRefused, err)
	r.h.log.Error("ranker refused", "ranker", r.name, "path", r.path, "err", err)
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

// start launches the ranker's process, handshakes, asks it to Describe
// itself and, if the host holds a model for it, imports that model.
func (r *ranker) start(ctx context.Context) (*proc, error) {
	cmd := exec.Command(r.path, r.args...)
	// The host's environment, then Config.Env, which wins on duplicates
	// (go-plugin would append the host's after it otherwise).
	cmd.Env = append(os.Environ(), r.h.cfg.Env...)
	dieWithParent(cmd)
	var secure *plugin.SecureConfig
	if r.checksum != nil {
		// go-plugin hashes the binary before every launch, so a binary
		// swapped after discovery is refused too.
		secure = &plugin.SecureConfig{Checksum: r.checksum, Hash: sha256.New()}
	}
	log := r.h.log.With("ranker", r.name)
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		Plugins:          plugin.PluginSet{sdk.PluginName: &sdk.Plugin{}},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		SkipHostEnv:      true,
		StartTimeout:     r.h.cfg.StartTimeout,
		Logger:           newHCLogger(log),
		SyncStdout:       &lineLogger{log: log, stream: "stdout"},
		SyncStderr:       &lineLogger{log: log, stream: "stderr"},
	})
	var cp plugin.ClientProtocol
	err := r.h.spawn.do(func() error {
		var err error
		cp, err = client.Client()
		return err
	})
	if err != nil {
		client.Kill()
		return nil, r.startError(err)
	}
	raw, err := cp.Dispense(sdk.PluginName)
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("ranker %q: %w", r.name, err)
	}
	p := &proc{client: client, rpc: raw.(*sdk.Client), started: time.Now()}
	p.pid, _ = strconv.Atoi(client.ID())

	dctx, cancel := context.WithTimeout(ctx, r.h.cfg.StartTimeout)
	info, err := p.rpc.Describe(dctx)
	cancel()
	if err != nil {
		client.Kill()
		return nil, fmt.Errorf("ranker %q: describe: %w", r.name, err)
	}
	if info.Name != r.name && !r.builtin {
		log.Warn("external ranker calls itself by another name", "says", info.Name)
	}

	r.mu.Lock()
	snap, version := r.snapshot, r.modelVersion
	r.info = info
	r.mu.Unlock()
	if snap != nil {
		ictx, cancel := context.WithTimeout(ctx, r.h.cfg.TrainTimeout)
		_, err := p.rpc.Import(ictx, bytes.NewReader(snap))
		cancel()
		if err != nil {
			client.Kill()
			return nil, fmt.Errorf("ranker %q: re-import model %s: %w", r.name, version, err)
		}
		log.Info("ranker got its model back", "model", version, "bytes", len(snap))
	}
	return p, nil
}

// startError explains why go-plugin could not start the ranker.
func (r *ranker) startError(err error) error {
	if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
		return fmt.Errorf("%w: %q: binary %s no longer matches the SHA-256 in the manifest", ErrRefused, r.name, r.path)
	}
	if m := pluginVersionRE.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%w: ranker %q speaks plugin protocol version %s, this host speaks version %d; rebuild it against rankers/sdk",
			ErrProtocolVersion, r.name, m[1], sdk.ProtocolVersion)
	}
	return fmt.Errorf("ranker %q: start %s: %w", r.name, r.path, err)
}

// permanent reports whether starting again cannot help.
func permanent(err error) bool {
	return errors.Is(err, ErrRefused) || errors.Is(err, ErrProtocolVersion)
}

// firstStart starts the ranker from New; a failure hands over to the
// restart loop.
func (r *ranker) firstStart(ctx context.Context) {
	r.restartLock.Lock()
	defer r.restartLock.Unlock()
	p, err := r.start(ctx)
	if err == nil {
		r.proc.Store(p)
		r.setState(StateRunning, nil)
		r.h.log.Info("ranker started", "ranker", r.name, "pid", p.pid, "version", r.status().Info.Version)
		return
	}
	if r.giveUp(err, 1) {
		return
	}
	r.mu.Lock()
	r.backoff = r.h.cfg.RestartBackoff
	r.mu.Unlock()
	r.setState(StateRestarting, err)
	r.h.log.Warn("ranker did not start; retrying", "ranker", r.name, "err", err)
	r.h.goTracked(func() { r.restartLoop(1) })
}

// giveUp marks the ranker REFUSED or FAILED if err (the failures-th in a
// row) means it should not be started again.
func (r *ranker) giveUp(err error, failures int) bool {
	switch {
	case errors.Is(err, ErrRefused):
		r.refuse(err)
	case permanent(err) || failures >= r.h.cfg.MaxStartFailures:
		r.setState(StateFailed, err)
		r.h.log.Error("ranker failed; giving up on it", "ranker", r.name, "failures", failures, "err", err)
	default:
		return false
	}
	return true
}

// lost takes p out of service after a crash, hang or failed health checks
// and starts the restart loop. Of several callers noticing the same failure,
// only the first does anything.
func (r *ranker) lost(p *proc, why error) {
	if !r.proc.CompareAndSwap(p, nil) {
		return
	}
	r.mu.Lock()
	r.state, r.lastErr = StateRestarting, why.Error()
	if time.Since(p.started) < stableAfter && r.backoff > 0 {
		r.backoff = min(2*r.backoff, r.h.cfg.MaxRestartBackoff)
	} else {
		r.backoff = r.h.cfg.RestartBackoff
	}
	r.mu.Unlock()
	r.h.log.Warn("ranker lost; restarting", "ranker", r.name, "pid", p.pid, "err", why)
	// Kill it (it may be hung, not dead) and reap it, then start a new one.
	if !r.h.goTracked(func() { p.kill(0) }) {
		p.kill(0)
		return
	}
	r.h.goTracked(func() { r.restartLoop(0) })
}

// restartLoop starts the ranker again, backing off between failed starts,
// until it runs, is given up on, or the host closes.
func (r *ranker) restartLoop(failures int) {
	r.restartLock.Lock()
	defer r.restartLock.Unlock()
	for {
		r.mu.Lock()
		delay := r.backoff
		r.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-r.h.closing:
			t.Stop()
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // Close cuts a slow re-import short
			select {
			case <-r.h.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		p, err := r.start(ctx)
		cancel()
		if err == nil {
			r.mu.Lock()
			if r.h.closed.Load() { // Close may not see it: kill it here
				r.mu.Unlock()
				p.kill(killGrace)
				return
			}
			r.proc.Store(p)
			r.state = StateRunning
			r.restarts++
			r.mu.Unlock()
			r.pingFails.Store(0)
			r.h.log.Info("ranker restarted", "ranker", r.name, "pid", p.pid, "restarts", r.status().Restarts)
			if r.h.cfg.OnRestart != nil {
				r.h.cfg.OnRestart(r.name)
			}
			return
		}
		failures++
		if r.giveUp(err, failures) {
			return
		}
		r.setState(StateRestarting, err)
		r.h.log.Warn("ranker restart failed", "ranker", r.name, "failures", failures, "err", err)
		r.mu.Lock()
		r.backoff = min(max(2*r.backoff, r.h.cfg.RestartBackoff), r.h.cfg.MaxRestartBackoff)
		r.mu.Unlock()
	}
}

// stop kills the ranker's process for Close.
func (r *ranker) stop() {
	r.mu.Lock()
	p := r.proc.Swap(nil)
	r.mu.Unlock()
	if p != nil {
		p.kill(killGrace)
	}
}

// killGrace is how long Close lets a ranker shut down cleanly.
const killGrace = 3 * time.Second

// kill ends the process: go-plugin's Kill asks it to shut down and reaps
// it, but waits forever on a process that does not answer (stopped, or
// stuck in a loop that starves the runtime), so after grace it is killed
// outright.
func (p *proc) kill(grace time.Duration) {
	done := make(chan struct{})
	go func() {
		p.client.Kill()
		close(done)
	}()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	if !p.client.Exited() {
		// FindProcess holds a pidfd on Linux: no risk of hitting a reused pid.
		if proc, err := os.FindProcess(p.pid); err == nil {
			proc.Kill()
		}
	}
	<-done
}

// healthLoop pings the running rankers every PingInterval.
func (h *Host) healthLoop() {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-h.closing:
			return
		case <-t.C:
		}
		var wg sync.WaitGroup
		for _, r := range h.rankers {
			p := r.proc.Load()
			if p == nil {
				continue
			}
			wg.Go(func() { r.check(p) })
		}
		wg.Wait()
	}
}

// check pings one ranker process.
func (r *ranker) check(p *proc) {
	if p.client.Exited() {
		r.lost(p, errors.New("process exited"))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.h.cfg.PingTimeout)
	err := p.rpc.Ping(ctx)
	cancel()
	if err == nil {
		r.pingFails.Store(0)
		return
	}
	if n := r.pingFails.Add(1); int(n) >= r.h.cfg.PingFailures {
		r.pingFails.Store(0)
		r.lost(p, fmt.Errorf("%d health checks failed in a row: %w", n, err))
	}
}

// spawner starts processes from one goroutine locked to one OS thread.
// Linux sends the death signal (see dieWithParent) when the thread that
// started a child exits, not the process; Go retires threads now and then,
// so children are started from a thread that lives as long as the Host.
type spawner struct {
	reqs chan func()
	done chan struct{}
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan func()), done: make(chan struct{})}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		for {
			select {
			case f := <-s.reqs:
				f()
			case <-s.done:
				return
			}
		}
	}()
	return s
}

// do runs f on the spawner's thread.
func (s *spawner) do(f func() error) error {
	errc := make(chan error, 1)
	select {
	case s.reqs <- func() { errc <- f() }:
		return <-errc
	case <-s.done:
		return ErrClosed
	}
}

func (s *spawner) close() { close(s.done) }
