package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health/grpc_health_v1"

	rankerpb "github.com/limelight-hq/limelight/rankers/proto"
)

// Client talks to one ranker process over gRPC. It is what go-plugin
// dispenses on the host side; rankers/host wraps it with deadlines, restarts
// and fallback. Errors from the ranker match this package's sentinels with
// errors.Is. A Client is safe for concurrent use.
type Client struct {
	conn grpc.ClientConnInterface
	rpc  rankerpb.RankerClient
}

// NewClient returns a Client that talks over conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{conn: conn, rpc: rankerpb.NewRankerClient(conn)}
}

// Ping checks that the ranker process answers, using the gRPC health service
// go-plugin registers in every plugin.
func (c *Client) Ping(ctx context.Context) error {
	_, err := grpc_health_v1.NewHealthClient(c.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: "plugin"})
	return err
}

// Describe returns the ranker's Info.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	r, err := c.rpc.Describe(ctx, &rankerpb.DescribeRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	return infoFromProto(r), nil
}

// Train streams d and p to the ranker and waits for it to train.
func (c *Client) Train(ctx context.Context, d *Dataset, p Params) (Report, error) {
	stream, err := c.rpc.Train(ctx)
	if err != nil {
		return Report{}, fromStatus(err)
	}
	err = sendDataset(stream, d, p)
	if errors.Is(err, io.EOF) {
		err = nil // the ranker gave up early; CloseAndRecv says why
	}
	if err != nil {
		return Report{}, fromStatus(err)
	}
	r, err := stream.CloseAndRecv()
	if err != nil {
		return Report{}, fromStatus(err)
	}
	return reportFromProto(r), nil
}

func sendDataset(stream rankerpb.Ranker_TrainClient, d *Dataset, p Params) error {
	err := stream.Send(&rankerpb.TrainRequest{Part: &rankerpb.TrainRequest_Header{Header: &rankerpb.TrainHeader{
		Params: p, NumUsers: int32(d.NumUsers), NumItems: int32(d.NumItems), NumInteractions: int64(d.Len()),
	}}})
	if err != nil {
		return err
	}
	for first := 0; first < len(d.Features); {
		chunk := &rankerpb.ItemChunk{FirstItem: int32(first)}
		size := 0
		for ; first < len(d.Features) && (size < chunkSize || len(chunk.Items) == 0); first++ {
			f := &d.Features[first]
			size += len(f.Title) + len(f.Body) + len(f.Category) + len(f.Language) + 32
			for _, t := range f.Tags {
				size += len(t) + 2
			}
			chunk.Items = append(chunk.Items, featuresToProto(f))
		}
		if err := stream.Send(&rankerpb.TrainRequest{Part: &rankerpb.TrainRequest_Items{Items: chunk}}); err != nil {
			return err
		}
	}
	for lo := 0; lo < d.Len(); lo += interactionChunk {
		hi := min(lo+interactionChunk, d.Len())
		chunk := &rankerpb.InteractionChunk{UserIdx: d.Users[lo:hi], ItemIdx: d.Items[lo:hi], Weight: d.Weights[lo:hi]}
		if len(d.Times) != 0 {
			chunk.UnixTs = d.Times[lo:hi]
		}
		if err := stream.Send(&rankerpb.TrainRequest{Part: &rankerpb.TrainRequest_Interactions{Interactions: chunk}}); err != nil {
			return err
		}
	}
	return nil
}

// Recommend asks the ranker to rank items for q.User.
func (c *Client) Recommend(ctx context.Context, q Query) ([]Scored, error) {
	r, err := c.rpc.Recommend(ctx, queryToProto(q))
	if err != nil {
		return nil, fromStatus(err)
	}
	return scoredFromProto(r.GetItems(), r.GetScores()), nil
}

// RecommendBatch asks the ranker to answer many queries in one call. The
// error is for the call as a whole; each result carries its own.
func (c *Client) RecommendBatch(ctx context.Context, qs []Query) ([]BatchResult, error) {
	req := &rankerpb.RecommendBatchRequest{Queries: make([]*rankerpb.RecommendRequest, len(qs))}
	for i, q := range qs {
		req.Queries[i] = queryToProto(q)
	}
	r, err := c.rpc.RecommendBatch(ctx, req)
	if err != nil {
		return nil, fromStatus(err)
	}
	if len(r.GetResults()) != len(qs) {
		return nil, fmt.Errorf("ranker answered %d of %d queries", len(r.GetResults()), len(qs))
	}
	out := make([]BatchResult, len(qs))
	for i, br := range r.GetResults() {
		if code := codes.Code(br.GetCode()); code != codes.OK {
			out[i].Err = fromCode(code, br.GetError(), nil)
			continue
		}
		out[i].Items = scoredFromProto(br.GetItems(), br.GetScores())
	}
	return out, nil
}

// Similar asks the ranker for items like item.
func (c *Client) Similar(ctx context.Context, item int32, k int, exclude []int32) ([]Scored, error) {
	r, err := c.rpc.Similar(ctx, &rankerpb.SimilarRequest{Item: item, K: int32(max(min(k, 1<<30), -1)), Exclude: exclude})
	if err != nil {
		return nil, fromStatus(err)
	}
	return scoredFromProto(r.GetItems(), r.GetScores()), nil
}

// Export writes a snapshot of the ranker's model to w.
func (c *Client) Export(ctx context.Context, w io.Writer) error {
	stream, err := c.rpc.Export(ctx, &rankerpb.ExportRequest{})
	if err != nil {
		return fromStatus(err)
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromStatus(err)
		}
		if _, err := w.Write(m.GetData()); err != nil {
			return err
		}
	}
}

// Import replaces the ranker's model with the snapshot read from r and
// returns the model's version if the ranker reports one (see ModelVersioner).
func (c *Client) Import(ctx context.Context, r io.Reader) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Import(ctx)
	if err != nil {
		return "", fromStatus(err)
	}
	var sendErr error
	w := &chunkWriter{send: func(b []byte) error {
		sendErr = stream.Send(&rankerpb.ModelChunk{Data: b})
		return sendErr
	}}
	_, err = io.Copy(w, r)
	if err == nil {
		err = w.Flush()
	}
	switch {
	case err == nil, errors.Is(sendErr, io.EOF):
		// Done, or the ranker stopped reading: CloseAndRecv says why.
	case sendErr != nil:
		return "", fromStatus(sendErr)
	default:
		// Reading the snapshot failed: cancel, so that the ranker does not
		// load a truncated model.
		return "", fmt.Errorf("read snapshot: %w", err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return "", fromStatus(err)
	}
	return resp.GetModelVersion(), nil
}
