package host_test

import (
	"context"
	"testing"

	"github.com/limelight-hq/limelight/rankers/als"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/internal/synth"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// BenchmarkTopK compares the cost of a top-20 ALS recommendation over
// 20,000 items × 64 factors made in-process with the same one made through
// the host and a plugin process (one gRPC round trip on a Unix socket).
func BenchmarkTopK(b *testing.B) {
	d := synth.Generate(synth.Bench(200_000))
	d.Features = nil
	params := sdk.Params{"factors": "64", "iterations": "1"}
	ctx := context.Background()
	q := func(i int) sdk.Query { return sdk.Query{User: d.Users[(i*7919)%len(d.Users)], K: 20} }

	b.Run("in-process", func(b *testing.B) {
		r := als.New()
		if _, err := r.Train(ctx, d, params); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := r.Recommend(ctx, q(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plugin", func(b *testing.B) {
		h := newHost(b, host.Config{Builtins: []string{"als", "popular"}, PingInterval: -1})
		if _, err := h.Train(ctx, "als", d, params); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			res, err := h.Recommend(ctx, "als", q(i))
			if err != nil || res.Fallback {
				b.Fatalf("%+v, %v", res, err)
			}
		}
	})
}
