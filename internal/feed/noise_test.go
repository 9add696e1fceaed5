package feed

import (
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

func TestFilterNoise(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	p := DefaultPipeline()
	p.BurstMax = 5
	u1, u2 := pulid.ID("US1"), pulid.ID("US2")
	var ev []rawEvent
	// u1: a view, a repeat 10 min later (noise), another 40 min later (kept), a like right after (kept).
	ev = append(ev,
		rawEvent{u1, "CO1", interaction.KindVIEW, t0},
		rawEvent{u1, "CO1", interaction.KindVIEW, t0.Add(10 * time.Minute)},
		rawEvent{u1, "CO1", interaction.KindVIEW, t0.Add(50 * time.Minute)},
		rawEvent{u1, "CO1", interaction.KindLIKE, t0.Add(51 * time.Minute)},
	)
	// u2: 20 distinct views within 20 seconds: only BurstMax per minute survive.
	for i := range 20 {
		ev = append(ev, rawEvent{u2, pulid.ID("CO" + string(rune('a'+i))), interaction.KindVIEW, t0.Add(time.Duration(i) * time.Second)})
	}
	// ...and a minute later the rate is human again.
	ev = append(ev, rawEvent{u2, "COz", interaction.KindVIEW, t0.Add(2 * time.Minute)})
	var st BuildStats
	kept := filterNoise(ev, p, &st)
	if st.Repeats != 1 || st.Bursts != 15 || len(kept) != 3+5+1 {
		t.Fatalf("repeats %d bursts %d kept %d", st.Repeats, st.Bursts, len(kept))
	}
}
