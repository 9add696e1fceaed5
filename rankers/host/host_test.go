package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/sdk/sdktest"
)

// testLog is an io.Writer to t.Log that goes quiet once the test is over
// (the host may log while it shuts down).
type testLog struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

// newHost starts a Host for a test and closes it when the test ends.
func newHost(t testing.TB, cfg host.Config) *host.Host {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Self == "" {
		cfg.Self = self
	}
	lw := &testLog{t: t}
	t.Cleanup(func() { lw.mu.Lock(); lw.done = true; lw.mu.Unlock() })
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	h, err := host.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("host.New: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func status(t testing.TB, h *host.Host, name string) host.Status {
	t.Helper()
	for _, s := range h.Rankers() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no ranker %q in %v", name, h.Rankers())
	return host.Status{}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func train(t testing.TB, h *host.Host, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := h.Train(context.Background(), n, sdktest.Dataset(), nil); err != nil {
			t.Fatalf("train %s: %v", n, err)
		}
	}
}

func TestRecommendThroughPlugin(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{Builtins: []string{"popular"}})
	ctx := context.Background()

	res, err := h.Recommend(ctx, "popular", sdk.Query{User: 0, K: 5})
	if err == nil || !errors.Is(err, host.ErrUnavailable) {
		t.Fatalf("untrained fallback ranker: result %+v, error %v; want ErrUnavailable", res, err)
	}
	train(t, h, "popular")
	res, err = h.Recommend(ctx, "popular", sdk.Query{User: 0, K: 5})
	if err != nil || res.Fallback || res.Ranker != "popular" || len(res.Items) != 5 {
		t.Fatalf("Recommend: %+v, %v", res, err)
	}
	st := status(t, h, "popular")
	if st.State != host.StateRunning || st.PID <= 0 || st.Info.Name != "popular" || !st.Builtin ||
		st.ModelVersion == "" || !st.Info.Capabilities.Has(sdk.UserItems) {
		t.Errorf("status: %+v", st)
	}
	sim, err := h.Similar(ctx, "popular", 3, 4, nil)
	if err != nil || sim.Fallback || len(sim.Items) == 0 {
		t.Errorf("Similar: %+v, %v", sim, err)
	}

	if _, err := h.Recommend(ctx, "popular", sdk.Query{User: 0, K: 0}); !errors.Is(err, sdk.ErrBadInput) {
		t.Errorf("k=0: %v, want ErrBadInput", err)
	}
	if _, err := h.Recommend(ctx, "popular", sdk.Query{User: 0, K: 3, Candidates: []int32{1000}}); !errors.Is(err, sdk.ErrBadInput) {
		t.Errorf("candidate out of range: %v, want ErrBadInput", err)
	}
	if _, err := h.Recommend(ctx, "nope", sdk.Query{User: 0, K: 3}); !errors.Is(err, host.ErrUnknownRanker) {
		t.Errorf("unknown ranker: %v, want ErrUnknownRanker", err)
	}

	snap, err := h.Export(ctx, "popular")
	if err != nil || len(snap) == 0 {
		t.Fatalf("Export: %d bytes, %v", len(snap), err)
	}
	if err := h.Import(ctx, "popular", snap); err != nil {
		t.Fatalf("Import: %v", err)
	}
	if err := h.Import(ctx, "popular", []byte("junk")); !errors.Is(err, sdk.ErrBadInput) {
		t.Errorf("Import junk: %v, want ErrBadInput", err)
	}
	if st2 := status(t, h, "popular"); st2.ModelVersion != st.ModelVersion {
		t.Errorf("model version after re-import %q, want %q", st2.ModelVersion, st.ModelVersion)
	}
}

func TestEveryBuiltinRunsAsAPlugin(t *testing.T) {
	t.Parallel()
	names := builtin.Names()
	h := newHost(t, host.Config{Builtins: names})
	train(t, h, names...)
	for _, n := range names {
		st := status(t, h, n)
		if st.State != host.StateRunning || st.Info.Name != n || st.ModelVersion == "" {
			t.Errorf("%s: %+v", n, st)
		}
		res, err := h.Recommend(context.Background(), n, sdk.Query{User: 0, K: 5})
		if err != nil || res.Fallback || res.Ranker != n || len(res.Items) == 0 {
			t.Errorf("%s: Recommend = %+v, %v", n, res, err)
		}
		res, err = h.Similar(context.Background(), n, 0, 5, nil)
		if err != nil || res.Fallback || len(res.Items) == 0 {
			t.Errorf("%s: Similar = %+v, %v", n, res, err)
		}
		// A cold user: ALS folds in, similarity builds a profile, popular
		// mixes in the categories.
		res, err = h.Recommend(context.Background(), n, sdk.Query{User: -1, K: 5, History: []sdk.ItemWeight{{Item: 3, Weight: 2}}})
		if err != nil || res.Fallback || len(res.Items) == 0 {
			t.Errorf("%s: cold user = %+v, %v", n, res, err)
		}
	}
}

func TestRecommendBatch(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{Builtins: []string{"popular", "slow"}, BatchSize: 7})
	train(t, h, "popular")
	ctx := context.Background()
	var qs []sdk.Query
	for u := range int32(sdktest.NumUsers) {
		qs = append(qs, sdk.Query{User: u, K: 4})
	}
	qs = append(qs, sdk.Query{User: 1, K: 0})
	res, err := h.RecommendBatch(ctx, "popular", qs)
	if err != nil || len(res) != len(qs) {
		t.Fatalf("RecommendBatch: %d results, %v", len(res), err)
	}
	for i, q := range qs[:len(qs)-1] {
		one, err := h.Recommend(ctx, "popular", q)
		if err != nil || res[i].Err != nil || fmt.Sprint(one.Items) != fmt.Sprint(res[i].Items) {
			t.Errorf("query %d: batch %+v, single %+v (%v)", i, res[i], one, err)
		}
	}
	if !errors.Is(res[len(qs)-1].Err, sdk.ErrBadInput) {
		t.Errorf("bad query in batch: %+v", res[len(qs)-1])
	}

	// "slow" has no model: the whole batch comes from the fallback.
	res, err = h.RecommendBatch(ctx, "slow", qs[:10])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Fallback || r.Ranker != "popular" || r.Reason != host.ReasonNotTrained || len(r.Items) != 4 {
			t.Errorf("query %d on untrained ranker: %+v", i, r)
		}
	}
}

func TestTimeoutFallsBack(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{
		Builtins: []string{"popular", "slow"}, CallTimeout: 150 * time.Millisecond,
		Env: []string{envDelay + "=5s"},
	})
	train(t, h, "popular", "slow")
	start := time.Now()
	res, err := h.Recommend(context.Background(), "slow", sdk.Query{User: 2, K: 5})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Fallback || res.Ranker != "popular" || res.Reason != host.ReasonTimeout || len(res.Items) != 5 {
		t.Errorf("slow ranker: %+v, want the fallback's answer for a timeout", res)
	}
	if took > 2*time.Second {
		t.Errorf("answer took %v; the deadline is 150ms", took)
	}
	if st := status(t, h, "slow"); st.State != host.StateRunning || st.Restarts != 0 {
		t.Errorf("a slow ranker is not a dead one: %+v", st)
	}
	// Similar is not slowed down: the ranker still answers itself.
	if res, err := h.Similar(context.Background(), "slow", 1, 3, nil); err != nil || res.Fallback {
		t.Errorf("Similar: %+v, %v", res, err)
	}
}

func TestCrashMidRequestFallsBackAndRestarts(t *testing.T) {
	t.Parallel()
	markers := t.TempDir()
	h := newHost(t, host.Config{
		Builtins: []string{"popular", "slow"}, CallTimeout: time.Minute, PingInterval: -1,
		Env: []string{envDelay + "=1m", envMarkerDir + "=" + markers},
	})
	train(t, h, "popular", "slow")
	before := status(t, h, "slow")
	ctx := context.Background()
	wantSimilar, err := h.Similar(ctx, "slow", 5, 4, nil)
	if err != nil || wantSimilar.Fallback {
		t.Fatalf("Similar before the crash: %+v, %v", wantSimilar, err)
	}

	type answer struct {
		res host.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := h.Recommend(ctx, "slow", sdk.Query{User: 3, K: 5})
		done <- answer{res, err}
	}()
	marker := filepath.Join(markers, "recommend-"+strconv.Itoa(before.PID))
	waitFor(t, "the request to reach the ranker", 10*time.Second, func() bool {
		_, err := os.Stat(marker)
		return err == nil
	})
	if err := syscall.Kill(before.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a := <-done
	if a.err != nil || !a.res.Fallback || a.res.Ranker != "popular" || a.res.Reason != host.ReasonCrashed || len(a.res.Items) != 5 {
		t.Fatalf("request during the crash: %+v, %v; want the fallback's answer", a.res, a.err)
	}

	var after host.Status
	waitFor(t, "the ranker to be restarted", 20*time.Second, func() bool {
		after = status(t, h, "slow")
		return after.State == host.StateRunning && after.PID != before.PID
	})
	if after.Restarts != 1 || after.ModelVersion != before.ModelVersion {
		t.Errorf("after restart: %+v (before: %+v)", after, before)
	}
	// It came back with its model: it answers itself, as before.
	got, err := h.Similar(ctx, "slow", 5, 4, nil)
	if err != nil || got.Fallback || fmt.Sprint(got.Items) != fmt.Sprint(wantSimilar.Items) {
		t.Errorf("Similar after restart: %+v, %v; want %+v", got, err, wantSimilar)
	}
}

func TestHungRankerFailsPingsAndIsReplaced(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{
		Builtins: []string{"popular"}, PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond,
		PingFailures: 2, CallTimeout: 200 * time.Millisecond,
	})
	train(t, h, "popular")
	before := status(t, h, "popular")
	if err := syscall.Kill(before.PID, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(before.PID, syscall.SIGKILL) })
	// kill returns before the process has stopped.
	waitFor(t, "the ranker to stop", 10*time.Second, func() bool { return procState(before.PID) == 'T' })

	// While it hangs, the in-process copy of the fallback answers.
	res, err := h.Recommend(context.Background(), "popular", sdk.Query{User: -1, K: 3})
	if err != nil || !res.Fallback || !strings.Contains(res.Reason, "in-process") || len(res.Items) != 3 {
		t.Errorf("hung fallback ranker: %+v, %v; want the in-process copy's answer", res, err)
	}
	waitFor(t, "the hung ranker to be replaced", 20*time.Second, func() bool {
		st := status(t, h, "popular")
		return st.State == host.StateRunning && st.PID != before.PID
	})
	res, err = h.Recommend(context.Background(), "popular", sdk.Query{User: -1, K: 3})
	if err != nil || res.Fallback {
		t.Errorf("after replacement: %+v, %v", res, err)
	}
}

func TestProtocolVersionMismatch(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{Builtins: []string{"popular", "v2"}})
	st := status(t, h, "v2")
	if st.State != host.StateFailed {
		t.Fatalf("status %+v, want FAILED", st)
	}
	for _, want := range []string{`ranker "v2"`, "version 2", fmt.Sprintf("version %d", sdk.ProtocolVersion)} {
		if !strings.Contains(st.LastError, want) {
			t.Errorf("error %q does not mention %q", st.LastError, want)
		}
	}
	_, err := h.Train(context.Background(), "v2", sdktest.Dataset(), nil)
	if !errors.Is(err, host.ErrUnavailable) {
		t.Errorf("Train on a failed ranker: %v", err)
	}
	train(t, h, "popular")
	res, err := h.Recommend(context.Background(), "v2", sdk.Query{User: 1, K: 2})
	if err != nil || !res.Fallback || res.Reason != host.ReasonDown {
		t.Errorf("Recommend on a failed ranker: %+v, %v", res, err)
	}
}

// copyFile copies the test binary into dir as an "external ranker".
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestExternalRankersArePinned(t *testing.T) {
	t.Parallel()
	self, _ := os.Executable()
	dir := t.TempDir()
	copyFile(t, self, filepath.Join(dir, "trending"))
	copyFile(t, self, filepath.Join(dir, "tampered"))
	copyFile(t, self, filepath.Join(dir, "stowaway"))
	sum, err := host.FileSHA256(filepath.Join(dir, "trending"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`{
		"trending": {"file": "trending", "sha256": %q},
		"tampered": {"file": "tampered", "sha256": "%s"},
		"escape":   {"file": "../trending", "sha256": %q}
	}`, sum, strings.Repeat("ab", 32), sum)
	if err := os.WriteFile(filepath.Join(dir, host.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHost(t, host.Config{
		Builtins: []string{"popular"}, Dir: dir, Env: []string{envExternal + "=popular"},
	})
	if st := status(t, h, "trending"); st.State != host.StateRunning || st.Builtin || st.PID <= 0 {
		t.Errorf("pinned external ranker: %+v", st)
	}
	for name, why := range map[string]string{"tampered": "SHA-256", "stowaway": "not listed", "escape": "plain file name"} {
		st := status(t, h, name)
		if st.State != host.StateRefused || st.PID != 0 || !strings.Contains(st.LastError, why) {
			t.Errorf("%s: %+v, want REFUSED mentioning %q", name, st, why)
		}
	}
	if _, err := h.Train(context.Background(), "tampered", sdktest.Dataset(), nil); !errors.Is(err, host.ErrRefused) {
		t.Errorf("Train on a refused ranker: %v", err)
	}
	train(t, h, "trending")
	if res, err := h.Recommend(context.Background(), "trending", sdk.Query{User: 0, K: 3}); err != nil || res.Fallback {
		t.Errorf("external ranker: %+v, %v", res, err)
	}
}

// procState returns the state letter of process pid from /proc (R, S,
// T for stopped, Z for zombie, ...), or 0 if there is none.
func procState(pid int) byte {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2]
	}
	return 0
}

// gone reports whether no process pid exists, counting a zombie as gone
// (it has exited; only its parent's reaping is left).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	st := procState(pid)
	return st == 0 || st == 'Z'
}

func TestCloseLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{Builtins: []string{"popular", "slow"}})
	var pids []int
	for _, st := range h.Rankers() {
		if st.PID <= 0 {
			t.Fatalf("not running: %+v", st)
		}
		pids = append(pids, st.PID)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("ranker process %d outlived Close", pid)
		}
	}
	if _, err := h.Recommend(context.Background(), "popular", sdk.Query{User: 0, K: 1}); !errors.Is(err, host.ErrClosed) {
		t.Errorf("Recommend after Close: %v", err)
	}
}

func TestCloseKillsAHungRanker(t *testing.T) {
	t.Parallel()
	h := newHost(t, host.Config{Builtins: []string{"popular"}, PingInterval: -1})
	pid := status(t, h, "popular").PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ranker to stop", 10*time.Second, func() bool { return procState(pid) == 'T' })
	done := make(chan struct{})
	go func() {
		h.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("Close hangs on a stopped ranker")
	}
	if !gone(pid) {
		t.Errorf("stopped ranker %d outlived Close", pid)
	}
}

// TestHostChild is the host process for TestKilledHostLeavesNoProcesses:
// it starts rankers, prints their PIDs and waits to be killed.
func TestHostChild(t *testing.T) {
	if os.Getenv("LIMELIGHT_TEST_HOST_CHILD") == "" {
		t.Skip("only run as a child of TestKilledHostLeavesNoProcesses")
	}
	h := newHost(t, host.Config{Builtins: []string{"popular", "slow"}})
	var pids []string
	for _, st := range h.Rankers() {
		pids = append(pids, strconv.Itoa(st.PID))
	}
	fmt.Println("PIDS", strings.Join(pids, " "))
	time.Sleep(time.Minute)
}

func TestKilledHostLeavesNoProcesses(t *testing.T) {
	t.Parallel()
	self, _ := os.Executable()
	cmd := exec.Command(self, "-test.run=^TestHostChild$", "-test.v")
	cmd.Env = append(os.Environ(), "LIMELIGHT_TEST_HOST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var pids []int
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && f[0] == "PIDS" {
			for _, s := range f[1:] {
				pid, _ := strconv.Atoi(s)
				pids = append(pids, pid)
			}
			break
		}
	}
	if len(pids) != 2 {
		t.Fatalf("child host reported PIDs %v", pids)
	}
	go io.Copy(io.Discard, out)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	for _, pid := range pids {
		waitFor(t, fmt.Sprintf("ranker %d to die with its host", pid), 10*time.Second, func() bool { return gone(pid) })
	}
}
