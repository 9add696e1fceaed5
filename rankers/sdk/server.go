package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	rankerpb "github.com/limelight-hq/limelight/rankers/proto"
)

// chunkSize is the size of the pieces models and item features are streamed
// in, well under gRPC's default 4 MiB message limit.
const chunkSize = 1 << 20

// interactionChunk is how many interactions go in one Train message
// (about 20 bytes each on the wire).
const interactionChunk = 1 << 15

// server adapts a Ranker to the generated gRPC service.
type server struct {
	rankerpb.UnimplementedRankerServer
	impl Ranker
}

// recovered turns a panic in a ranker into an Internal error, so one bad
// request does not take the process (and every other request) down.
func recovered(err *error) {
	if r := recover(); r != nil {
		buf := make([]byte, 4096)
		buf = buf[:runtime.Stack(buf, false)]
		*err = status.Errorf(codes.Internal, "ranker panicked: %v\n%s", r, buf)
	}
}

func (s *server) Describe(context.Context, *rankerpb.DescribeRequest) (_ *rankerpb.DescribeResponse, err error) {
	defer recovered(&err)
	return infoToProto(s.impl.Info()), nil
}

func (s *server) Train(stream rankerpb.Ranker_TrainServer) (err error) {
	defer recovered(&err)
	d, p, err := receiveDataset(stream)
	if err != nil {
		return toStatus(err)
	}
	specs := s.impl.Info().Params
	if err := ValidateParams(specs, p); err != nil {
		return toStatus(err)
	}
	start := time.Now()
	rep, err := s.impl.Train(stream.Context(), d, WithDefaults(specs, p))
	if err != nil {
		return toStatus(fmt.Errorf("train: %w", err))
	}
	if rep.Duration == 0 {
		rep.Duration = time.Since(start)
	}
	if rep.ModelVersion == "" { // the host keys snapshots by it
		rep.ModelVersion = fmt.Sprintf("%s-%x", s.impl.Info().Name, time.Now().UnixNano())
	}
	return stream.SendAndClose(reportToProto(rep))
}

// receiveDataset reads a Train stream: header, item chunks, interaction
// chunks.
func receiveDataset(stream rankerpb.Ranker_TrainServer) (*Dataset, Params, error) {
	first, err := stream.Recv()
	if err != nil {
		return nil, nil, err
	}
	h := first.GetHeader()
	if h == nil {
		return nil, nil, fmt.Errorf("%w: train stream must start with a header", ErrBadInput)
	}
	d := &Dataset{NumUsers: int(h.GetNumUsers()), NumItems: int(h.GetNumItems())}
	if n := min(h.GetNumInteractions(), 1<<26); n > 0 { // a hint, not a promise
		d.Users, d.Items, d.Weights, d.Times = make([]int32, 0, n), make([]int32, 0, n), make([]float32, 0, n), make([]int64, 0, n)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		switch part := msg.GetPart().(type) {
		case *rankerpb.TrainRequest_Items:
			if int(part.Items.GetFirstItem()) != len(d.Features) {
				return nil, nil, fmt.Errorf("%w: item chunk starts at %d, want %d", ErrBadInput, part.Items.GetFirstItem(), len(d.Features))
			}
			if len(d.Features)+len(part.Items.GetItems()) > d.NumItems {
				return nil, nil, fmt.Errorf("%w: more item features than the %d items", ErrBadInput, d.NumItems)
			}
			if d.Features == nil {
				d.Features = make([]ItemFeatures, 0, d.NumItems)
			}
			for _, f := range part.Items.GetItems() {
				d.Features = append(d.Features, featuresFromProto(f))
			}
		case *rankerpb.TrainRequest_Interactions:
			c := part.Interactions
			n := len(c.GetUserIdx())
			if len(c.GetItemIdx()) != n || len(c.GetWeight()) != n || (len(c.GetUnixTs()) != n && len(c.GetUnixTs()) != 0) {
				return nil, nil, fmt.Errorf("%w: interaction chunk arrays differ in length", ErrBadInput)
			}
			d.Users = append(d.Users, c.GetUserIdx()...)
			d.Items = append(d.Items, c.GetItemIdx()...)
			d.Weights = append(d.Weights, c.GetWeight()...)
			d.Times = append(d.Times, c.GetUnixTs()...)
		default:
			return nil, nil, fmt.Errorf("%w: unexpected %T after the train header", ErrBadInput, part)
		}
	}
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	return d, Params(h.GetParams()), nil
}

func (s *server) Recommend(ctx context.Context, req *rankerpb.RecommendRequest) (_ *rankerpb.ScoredItems, err error) {
	defer recovered(&err)
	items, err := s.recommend(ctx, queryFromProto(req))
	if err != nil {
		return nil, toStatus(err)
	}
	return scoredToProto(items), nil
}

func (s *server) recommend(ctx context.Context, q Query) (_ []Scored, err error) {
	defer recovered(&err)
	if q.K < 1 || q.User < -1 {
		return nil, q.Check(0)
	}
	return s.impl.Recommend(ctx, q)
}

func (s *server) RecommendBatch(ctx context.Context, req *rankerpb.RecommendBatchRequest) (_ *rankerpb.RecommendBatchResponse, err error) {
	defer recovered(&err)
	qs := make([]Query, len(req.GetQueries()))
	for i, q := range req.GetQueries() {
		qs[i] = queryFromProto(q)
	}
	var res []BatchResult
	if b, ok := s.impl.(BatchRecommender); ok {
		res = b.RecommendBatch(ctx, qs)
		if len(res) != len(qs) {
			return nil, status.Errorf(codes.Internal, "ranker answered %d of %d queries", len(res), len(qs))
		}
	} else {
		res = s.recommendEach(ctx, qs)
	}
	out := &rankerpb.RecommendBatchResponse{Results: make([]*rankerpb.BatchResult, len(res))}
	for i, r := range res {
		br := &rankerpb.BatchResult{}
		if r.Err != nil {
			st, _ := status.FromError(toStatus(r.Err))
			br.Code, br.Error = uint32(st.Code()), st.Message()
		} else {
			p := scoredToProto(r.Items)
			br.Items, br.Scores = p.Items, p.Scores
		}
		out.Results[i] = br
	}
	return out, nil
}

// recommendEach answers qs with Recommend on GOMAXPROCS goroutines.
func (s *server) recommendEach(ctx context.Context, qs []Query) []BatchResult {
	res := make([]BatchResult, len(qs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(qs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(qs) {
					return
				}
				if err := ctx.Err(); err != nil {
					res[i].Err = err
					continue
				}
				res[i].Items, res[i].Err = s.recommend(ctx, qs[i])
			}
		})
	}
	wg.Wait()
	return res
}

func (s *server) Similar(ctx context.Context, req *rankerpb.SimilarRequest) (_ *rankerpb.ScoredItems, err error) {
	defer recovered(&err)
	if !s.impl.Info().Capabilities.Has(ItemItems) {
		return nil, toStatus(fmt.Errorf("%w: %s does not rank similar items", ErrUnsupported, s.impl.Info().Name))
	}
	if req.GetK() < 1 {
		return nil, toStatus(CheckSimilar(req.GetItem(), int(req.GetK()), 0))
	}
	items, err := s.impl.Similar(ctx, req.GetItem(), int(req.GetK()), req.GetExclude())
	if err != nil {
		return nil, toStatus(err)
	}
	return scoredToProto(items), nil
}

func (s *server) Export(_ *rankerpb.ExportRequest, stream rankerpb.Ranker_ExportServer) (err error) {
	defer recovered(&err)
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&rankerpb.ModelChunk{Data: b}) }}
	if err := s.impl.Save(w); err != nil {
		return toStatus(fmt.Errorf("save: %w", err))
	}
	return w.Flush()
}

func (s *server) Import(stream rankerpb.Ranker_ImportServer) (err error) {
	defer recovered(&err)
	r := &chunkReader{recv: func() ([]byte, error) {
		m, err := stream.Recv()
		return m.GetData(), err
	}}
	if err := s.impl.Load(r); err != nil {
		if r.err != nil && !errors.Is(r.err, io.EOF) {
			return r.err // the stream broke; that is the news, not Load's reaction
		}
		return toStatus(fmt.Errorf("load: %w", err))
	}
	resp := &rankerpb.ImportResponse{}
	if v, ok := s.impl.(ModelVersioner); ok {
		resp.ModelVersion = v.ModelVersion()
	}
	return stream.SendAndClose(resp)
}

// chunkWriter buffers writes and sends them in pieces of at most chunkSize.
type chunkWriter struct {
	send func([]byte) error
	buf  []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, chunkSize)
		}
		k := min(len(p), chunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == chunkSize {
			if err := w.Flush(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// Flush sends what is buffered.
func (w *chunkWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.send(w.buf) // gRPC has encoded the message when Send returns
	w.buf = w.buf[:0]
	return err
}

// chunkReader reads a stream of chunks as one byte stream.
type chunkReader struct {
	recv func() ([]byte, error)
	cur  []byte
	err  error
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.cur, r.err = r.recv()
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
