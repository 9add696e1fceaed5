package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	l := New(Config{Rate: 1, Burst: 2})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2 {
		if ok, _ := l.Allow("a", t0); !ok {
			t.Fatalf("request %d refused inside the burst", i)
		}
	}
	ok, wait := l.Allow("a", t0)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("third request: ok %v wait %v", ok, wait)
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Fatal("another key shares the bucket")
	}
	// A refused request takes no token: one second later one is back.
	if ok, _ := l.Allow("a", t0.Add(time.Second)); !ok {
		t.Fatal("no token after a second")
	}
	if ok, _ := New(Config{Rate: -1}).Allow("a", t0); !ok {
		t.Fatal("a negative rate must disable limiting")
	}
	// Idle buckets are dropped after a while and come back full.
	l.Allow("a", t0.Add(time.Hour))
	if _, ok := l.buckets["b"]; ok {
		t.Fatal("idle bucket kept")
	}
}
