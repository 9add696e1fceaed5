package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Reasons a Result comes from the fallback.
const (
	ReasonTimeout     = "timeout"
	ReasonCrashed     = "crashed"
	ReasonDown        = "not running"
	ReasonNotTrained  = "not trained"
	ReasonUnknownUser = "unknown user"
	ReasonUnsupported = "unsupported"
	ReasonError       = "error"
)

// failed classifies err from a call to p, takes p out of service if it
// looks dead, and returns the reason to hand to the fallback.
func (r *ranker) failed(p *proc, err error) string {
	reason := reasonFor(err)
	switch reason {
	case ReasonTimeout:
		r.warnSometimes("ranker call timed out", err)
	case ReasonError:
		if status.Code(err) == codes.Unavailable || p.client.Exited() {
			r.lost(p, fmt.Errorf("call failed: %w", err))
			return ReasonCrashed
		}
		r.warnSometimes("ranker call failed", err)
	}
	return reason
}

// warnSometimes logs a failed call, at most once a second per ranker: a
// slow ranker under load would otherwise log every request.
func (r *ranker) warnSometimes(msg string, err error) {
	now := time.Now().UnixNano()
	last := r.lastWarn.Load()
	if now-last < int64(time.Second) || !r.lastWarn.CompareAndSwap(last, now) {
		return
	}
	r.h.log.Warn(msg, "ranker", r.name, "err", err)
}

// reasonFor names the kind of failure err is.
func reasonFor(err error) string {
	switch {
	case errors.Is(err, sdk.ErrNotTrained):
		return ReasonNotTrained
	case errors.Is(err, sdk.ErrUnknownUser):
		return ReasonUnknownUser
	case errors.Is(err, sdk.ErrUnsupported):
		return ReasonUnsupported
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	}
	return ReasonError
}

// downReason says why a ranker without a process cannot answer.
func (r *ranker) downReason() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == StateRestarting {
		return ReasonCrashed
	}
	return ReasonDown
}

// Recommend asks the named ranker for q. Within CallTimeout it answers
// itself; otherwise — slow, crashed, not running, untrained, or unable to
// rank this user — the fallback ranker answers and the Result says so. The
// error is for the caller's mistakes (sdk.ErrBadInput, ErrUnknownRanker),
// a cancelled ctx, or ErrUnavailable when the fallback failed too.
func (h *Host) Recommend(ctx context.Context, name string, q sdk.Query) (Result, error) {
	r, err := h.ranker(name)
	if err != nil {
		return Result{}, err
	}
	if q.K < 1 || q.User < -1 {
		return Result{}, fmt.Errorf("recommend %s: %w", name, q.Check(0))
	}
	p := r.proc.Load()
	if p == nil {
		return h.fallbackRecommend(ctx, name, q, r.downReason())
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	items, err := p.rpc.Recommend(cctx, q)
	cancel()
	switch {
	case err == nil:
		return Result{Items: items, Ranker: name}, nil
	case ctx.Err() != nil:
		return Result{}, fmt.Errorf("recommend %s: %w", name, ctx.Err())
	case errors.Is(err, sdk.ErrBadInput):
		return Result{}, fmt.Errorf("recommend %s: %w", name, err)
	}
	return h.fallbackRecommend(ctx, name, q, r.failed(p, err))
}

// fallbackRecommend answers q from the fallback ranker, or from its
// in-process copy when its process cannot answer either.
func (h *Host) fallbackRecommend(ctx context.Context, asked string, q sdk.Query, reason string) (Result, error) {
	fb := h.rankers[h.cfg.Fallback]
	var lastErr error
	if p := fb.proc.Load(); p != nil && asked != fb.name {
		for range 2 {
			cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
			items, err := p.rpc.Recommend(cctx, q)
			cancel()
			if err == nil {
				return Result{Items: items, Ranker: fb.name, Fallback: true, Reason: reason}, nil
			}
			if ctx.Err() != nil {
				return Result{}, fmt.Errorf("recommend %s: %w", asked, ctx.Err())
			}
			lastErr = err
			if !errors.Is(err, sdk.ErrUnknownUser) || q.User == -1 {
				fb.failed(p, err)
				break
			}
			q.User = -1 // a user beyond the fallback's model: rank as anonymous
		}
	}
	if h.localReady.Load() {
		items, err := h.local.Recommend(ctx, q)
		if errors.Is(err, sdk.ErrUnknownUser) {
			q.User = -1
			items, err = h.local.Recommend(ctx, q)
		}
		if err == nil {
			return Result{Items: items, Ranker: fb.name, Fallback: true, Reason: reason + "; fallback in-process"}, nil
		}
		lastErr = err
	}
	return Result{}, fmt.Errorf("recommend %s (%s), fallback %s: %w (%v)", asked, reason, fb.name, ErrUnavailable, lastErr)
}

// Similar asks the named ranker for items like item, with the same
// deadline and fallback as Recommend.
func (h *Host) Similar(ctx context.Context, name string, item int32, k int, exclude []int32) (Result, error) {
	r, err := h.ranker(name)
	if err != nil {
		return Result{}, err
	}
	if k < 1 || item < 0 {
		return Result{}, fmt.Errorf("similar %s: %w", name, sdk.CheckSimilar(item, k, int(item)+1))
	}
	p := r.proc.Load()
	if p == nil {
		return h.fallbackSimilar(ctx, name, item, k, exclude, r.downReason())
	}
	cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
	items, err := p.rpc.Similar(cctx, item, k, exclude)
	cancel()
	switch {
	case err == nil:
		return Result{Items: items, Ranker: name}, nil
	case ctx.Err() != nil:
		return Result{}, fmt.Errorf("similar %s: %w", name, ctx.Err())
	case errors.Is(err, sdk.ErrBadInput):
		return Result{}, fmt.Errorf("similar %s: %w", name, err)
	}
	return h.fallbackSimilar(ctx, name, item, k, exclude, r.failed(p, err))
}

func (h *Host) fallbackSimilar(ctx context.Context, asked string, item int32, k int, exclude []int32, reason string) (Result, error) {
	fb := h.rankers[h.cfg.Fallback]
	var lastErr error
	if p := fb.proc.Load(); p != nil && asked != fb.name {
		cctx, cancel := context.WithTimeout(ctx, h.cfg.CallTimeout)
		items, err := p.rpc.Similar(cctx, item, k, exclude)
		cancel()
		if err == nil {
			return Result{Items: items, Ranker: fb.name, Fallback: true, Reason: reason}, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("similar %s: %w", asked, ctx.Err())
		}
		lastErr = err
		fb.failed(p, err)
	}
	if h.localReady.Load() {
		items, err := h.local.Similar(ctx, item, k, exclude)
		if err == nil {
			return Result{Items: items, Ranker: fb.name, Fallback: true, Reason: reason + "; fallback in-process"}, nil
		}
		lastErr = err
	}
	return Result{}, fmt.Errorf("similar %s (%s), fallback %s: %w (%v)", asked, reason, fb.name, ErrUnavailable, lastErr)
}

// RecommendBatch answers many queries, BatchSize per call to the ranker,
// each call bounded by BatchTimeout. Queries the ranker cannot answer (a
// failed call, an unknown user, no model) are answered by the fallback;
// a query that is bad on its own gets Result.Err. The error is for the
// batch as a whole.
func (h *Host) RecommendBatch(ctx context.Context, name string, qs []sdk.Query) ([]Result, error) {
	r, err := h.ranker(name)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(qs))
	for lo := 0; lo < len(qs); lo += h.cfg.BatchSize {
		hi := min(lo+h.cfg.BatchSize, len(qs))
		if err := h.batch(ctx, r, qs[lo:hi], out[lo:hi]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// batch answers one call's worth of queries into out.
func (h *Host) batch(ctx context.Context, r *ranker, qs []sdk.Query, out []Result) error {
	var res []sdk.BatchResult
	reason := ""
	if p := r.proc.Load(); p == nil {
		reason = r.downReason()
	} else {
		cctx, cancel := context.WithTimeout(ctx, h.cfg.BatchTimeout)
		var err error
		res, err = p.rpc.RecommendBatch(cctx, qs)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("recommend batch %s: %w", r.name, ctx.Err())
		}
		if err != nil {
			reason, res = r.failed(p, err), nil
		}
	}
	var again []int // queries for the fallback
	for i := range qs {
		switch {
		case res == nil:
			again = append(again, i)
		case res[i].Err == nil:
			out[i] = Result{Items: res[i].Items, Ranker: r.name}
		case errors.Is(res[i].Err, sdk.ErrUnknownUser), errors.Is(res[i].Err, sdk.ErrNotTrained):
			again = append(again, i)
		default:
			out[i] = Result{Ranker: r.name, Err: res[i].Err}
		}
	}
	if len(again) == 0 {
		return nil
	}
	fb := h.rankers[h.cfg.Fallback]
	fqs := make([]sdk.Query, len(again))
	for j, i := range again {
		fqs[j] = qs[i]
	}
	var fres []sdk.BatchResult
	if p := fb.proc.Load(); p != nil && fb != r {
		cctx, cancel := context.WithTimeout(ctx, h.cfg.BatchTimeout)
		var err error
		fres, err = p.rpc.RecommendBatch(cctx, fqs)
		cancel()
		if err != nil {
			fres = nil
			fb.failed(p, err)
		}
	}
	for j, i := range again {
		why := reason
		if res != nil {
			why = reasonFor(res[i].Err)
		}
		if fres != nil && fres[j].Err == nil {
			out[i] = Result{Items: fres[j].Items, Ranker: fb.name, Fallback: true, Reason: why}
			continue
		}
		one, err := h.fallbackRecommend(ctx, r.name, qs[i], why)
		if err != nil {
			one.Err = err
		}
		out[i] = one
	}
	return nil
}

// Train trains the named ranker on d with params p, then exports its model
// and keeps the snapshot, so that a restarted ranker comes back with it.
// Bounded by TrainTimeout. There is no fallback for training.
func (h *Host) Train(ctx context.Context, name string, d *sdk.Dataset, p sdk.Params) (sdk.Report, error) {
	r, err := h.ranker(name)
	if err != nil {
		return sdk.Report{}, err
	}
	pr, err := r.running()
	if err != nil {
		return sdk.Report{}, fmt.Errorf("train %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.TrainTimeout)
	defer cancel()
	rep, err := pr.rpc.Train(ctx, d, p)
	if err != nil {
		r.noteFailure(pr, err)
		return sdk.Report{}, fmt.Errorf("train %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := pr.rpc.Export(ctx, &buf); err != nil {
		r.noteFailure(pr, err)
		return rep, fmt.Errorf("train %s: export the new model: %w", name, err)
	}
	h.keep(r, buf.Bytes(), rep.ModelVersion)
	return rep, nil
}

// Export returns a snapshot of the named ranker's model, fresh from the
// ranker when it runs, else the last one the host holds.
func (h *Host) Export(ctx context.Context, name string) ([]byte, error) {
	r, err := h.ranker(name)
	if err != nil {
		return nil, err
	}
	pr, err := r.running()
	if err != nil {
		r.mu.Lock()
		snap := r.snapshot
		r.mu.Unlock()
		if snap != nil {
			return snap, nil
		}
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.TrainTimeout)
	defer cancel()
	var buf bytes.Buffer
	if err := pr.rpc.Export(ctx, &buf); err != nil {
		r.noteFailure(pr, err)
		return nil, fmt.Errorf("export %s: %w", name, err)
	}
	r.mu.Lock()
	version := r.modelVersion
	r.mu.Unlock()
	h.keep(r, buf.Bytes(), version)
	return buf.Bytes(), nil
}

// Import loads a snapshot (from Export, possibly by another replica) into
// the named ranker and keeps it for restarts.
func (h *Host) Import(ctx context.Context, name string, snapshot []byte) error {
	r, err := h.ranker(name)
	if err != nil {
		return err
	}
	pr, err := r.running()
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.TrainTimeout)
	defer cancel()
	version, err := pr.rpc.Import(ctx, bytes.NewReader(snapshot))
	if err != nil {
		r.noteFailure(pr, err)
		return fmt.Errorf("import %s: %w", name, err)
	}
	h.keep(r, snapshot, version)
	return nil
}

// keep stores a ranker's snapshot (and feeds the in-process fallback).
func (h *Host) keep(r *ranker, snapshot []byte, version string) {
	r.mu.Lock()
	r.snapshot, r.modelVersion = snapshot, version
	r.mu.Unlock()
	if r.name == h.cfg.Fallback {
		h.setLocal(snapshot)
	}
}

// running returns the ranker's process or why there is none.
func (r *ranker) running() (*proc, error) {
	if p := r.proc.Load(); p != nil {
		return p, nil
	}
	st := r.status()
	if st.State == StateRefused {
		return nil, fmt.Errorf("%w: %s", ErrRefused, st.LastError)
	}
	return nil, fmt.Errorf("%w: %s (%s)", ErrUnavailable, st.State, st.LastError)
}

// noteFailure takes p out of service if err shows it died.
func (r *ranker) noteFailure(p *proc, err error) {
	if status.Code(err) == codes.Unavailable || p.client.Exited() {
		r.lost(p, err)
	}
}
