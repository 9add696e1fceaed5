package als_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/rankers/als"
	"github.com/limelight-hq/limelight/rankers/internal/synth"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// benchData is internal/seed's benchmark world: 1,000,000 interactions of
// 50,000 users on 20,000 items.
var benchData = sync.OnceValue(func() *sdk.Dataset {
	w, err := seed.Generate(seed.Bench(1_000_000))
	if err != nil {
		panic(err)
	}
	d := synth.FromWorld(w)
	d.Features = nil // ALS does not need them
	return d
})

// BenchmarkTrain trains on 1,000,000 interactions (50,000 users × 20,000
// items) at 64 factors and reports seconds per ALS iteration.
func BenchmarkTrain(b *testing.B) {
	d := benchData()
	b.ReportAllocs()
	b.ResetTimer()
	var perIter float64
	for range b.N {
		r := als.New()
		rep, err := r.Train(context.Background(), d, sdk.Params{"factors": "64", "iterations": "3"})
		if err != nil {
			b.Fatal(err)
		}
		perIter += rep.Metrics["seconds_per_iteration"]
	}
	b.ReportMetric(perIter/float64(b.N), "s/iteration")
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// BenchmarkLoad loads a snapshot of the 1,000,000-interaction model and
// reports the heap the loaded model holds against the raw factor bytes
// ((users + items) × factors × 4).
func BenchmarkLoad(b *testing.B) {
	d := benchData()
	src := als.New()
	if _, err := src.Train(context.Background(), d, sdk.Params{"factors": "64", "iterations": "1"}); err != nil {
		b.Fatal(err)
	}
	var snap bytes.Buffer
	if err := src.Save(&snap); err != nil {
		b.Fatal(err)
	}
	_, factors := src.Bytes()
	src = nil
	var heap, held float64
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r := als.New()
		b.StartTimer()
		if err := r.Load(bytes.NewReader(snap.Bytes())); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
		total, _ := r.Bytes()
		held += float64(total)
		runtime.KeepAlive(r)
		b.StartTimer()
	}
	b.ReportMetric(float64(factors), "factor-bytes")
	b.ReportMetric(heap/float64(b.N), "heap-bytes")
	b.ReportMetric(heap/float64(b.N)/float64(factors), "heap/factors")
	b.ReportMetric(held/float64(b.N)/float64(factors), "model/factors")
	b.ReportMetric(float64(snap.Len()), "snapshot-bytes")
}
