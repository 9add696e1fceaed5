package feed_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/rankermodel"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/feed"
	"github.com/limelight-hq/limelight/internal/privacy"
	"github.com/limelight-hq/limelight/internal/seed"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
	"github.com/limelight-hq/limelight/rankers/builtin"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// TestMain lets the test binary serve the built-in rankers as plugins.
func TestMain(m *testing.M) { builtin.RunTests(m) }

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func replica(t *testing.T, st *store.Store) *feed.Service {
	t.Helper()
	h, err := host.New(context.Background(), host.Config{Self: os.Args[0], Builtins: []string{"als", "popular"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, feed.DefaultConfig())
}

func version(svc *feed.Service, name string) string {
	for _, r := range svc.Rankers() {
		if r.Name == name {
			return r.ModelVersion
		}
	}
	return ""
}

// Two replicas share one database: what one trains, the other loads from
// the stored snapshot instead of training, and serves identically.
func TestReplicasShareSnapshots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := seed.Demo()
		cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 200, 20, 300, 6000
		cfg.Now = now
		_, ids := seed.MustLoad(t, st.Client, cfg)
		a, b := replica(t, st), replica(t, st)
		missing, err := b.Load(ctx)
		if err != nil || len(missing) != 2 {
			t.Fatalf("empty store: missing %v, err %v", missing, err)
		}
		rep, err := a.Train(ctx, "als", now)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Interactions == 0 || rep.Users != 200 || rep.Items != 300 {
			t.Fatalf("report %+v", rep)
		}
		if missing, err = b.Load(ctx); err != nil || len(missing) != 0 {
			t.Fatalf("after training elsewhere: missing %v, err %v", missing, err)
		}
		if va, vb := version(a, "als"), version(b, "als"); va == "" || va != vb {
			t.Fatalf("replica versions %q and %q", va, vb)
		}
		req := feed.Request{UserID: ids.Users[3], First: 10, Now: now}
		pa, err := a.Recommend(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.Recommend(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if pa.Ranker != "als" || pb.Ranker != "als" || len(pa.Items) != 10 {
			t.Fatalf("pages served by %s / %s", pa.Ranker, pb.Ranker)
		}
		for i := range pa.Items {
			if pa.Items[i].ContentID != pb.Items[i].ContentID {
				t.Fatalf("replicas rank differently at %d", i)
			}
		}
		// A cursor from one replica continues on the other.
		next, err := b.Recommend(ctx, feed.Request{UserID: ids.Users[3], First: 10, After: pa.Items[9].Cursor, Now: now})
		if err != nil || len(next.Items) == 0 {
			t.Fatalf("cursor across replicas: %v", err)
		}
		// Nothing new since a's training: scheduled retraining may skip.
		if changed, err := a.Changed(ctx); err != nil || changed {
			t.Fatalf("Changed right after training = %v, %v", changed, err)
		}
		if err := st.Client.Interaction.Create().SetUserID(ids.Users[3]).SetContentID(ids.Contents[5]).
			SetKind(interaction.KindLIKE).SetOccurredAt(now).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if changed, err := a.Changed(ctx); err != nil || !changed {
			t.Fatalf("Changed after a new interaction = %v, %v", changed, err)
		}
		// ...even right after the first retrains: the second loads the newer model.
		if _, err := a.Train(ctx, "als", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		fresh, err := a.Recommend(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Recommend(ctx, feed.Request{UserID: ids.Users[3], First: 10, After: fresh.Items[9].Cursor, Now: now}); err != nil {
			t.Fatalf("newer cursor on a lagging replica: %v", err)
		}
		// A replica configured with other hyperparameters retrains instead of
		// serving a model trained without them.
		h, err := host.New(ctx, host.Config{Self: os.Args[0], Builtins: []string{"als", "popular"}})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		cfg2 := feed.DefaultConfig()
		cfg2.Params = map[string]sdk.Params{"als": {"factors": "8"}}
		tuned := feed.New(st.Client, st.DB, st.Dialect == dialect.Postgres, h, cfg2)
		if missing, err := tuned.Load(ctx); err != nil || !slices.Contains(missing, "als") || slices.Contains(missing, "popular") {
			t.Fatalf("tuned replica: missing %v, err %v; want als only", missing, err)
		}
		// A cursor belongs to one user's feed.
		_, err = b.Recommend(ctx, feed.Request{UserID: ids.Users[4], First: 10, After: fresh.Items[9].Cursor, Now: now})
		if apperr.CodeOf(err) != apperr.BadInput {
			t.Fatalf("another user's cursor: %v, want BAD_INPUT", err)
		}
		_, err = b.Recommend(ctx, feed.Request{UserID: ids.Users[3], First: 10, After: fresh.Items[9].Cursor, Surface: feed.Explore, Now: now})
		if apperr.CodeOf(err) != apperr.BadInput {
			t.Fatalf("another surface's cursor: %v, want BAD_INPUT", err)
		}
	})
}

// One replica trains at a time: while the lock is held elsewhere, a second
// training is refused with CONFLICT instead of running twice.
func TestTrainingLock(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		st := storetest.Postgres(t)
		a, b := replica(t, st), replica(t, st)
		conn, err := st.DB.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var schema string
		if err := conn.QueryRowContext(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		// Hold the lock the way another replica would.
		if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_lock($1)", feed.TrainLockKey(schema)); err != nil {
			t.Fatal(err)
		}
		_, err = a.Train(context.Background(), "popular", now)
		if apperr.CodeOf(err) != apperr.Conflict || !errors.Is(err, feed.ErrTrainingBusy) {
			t.Fatalf("train under another replica's lock: %v", err)
		}
		if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", feed.TrainLockKey(schema)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Train(context.Background(), "popular", now); err != nil {
			t.Fatalf("train after unlock: %v", err)
		}
	})
}

// A forgotten fan's ID leaves the stored models at the next training.
func TestForgottenUsersLeaveTheModels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := seed.Demo()
		cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 50, 5, 60, 1000
		cfg.Now = now
		_, ids := seed.MustLoad(t, st.Client, cfg)
		svc := replica(t, st)
		named := func() bool {
			row, err := st.Client.RankerModel.Query().Where(rankermodel.Ranker("popular")).
				Order(ent.Desc(rankermodel.FieldTrainedAt), ent.Desc(rankermodel.FieldID)).First(ctx)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(row.Mapping))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			return bytes.Contains(b, []byte(ids.Users[7]))
		}
		if _, err := svc.Train(ctx, "popular", now); err != nil {
			t.Fatal(err)
		}
		if !named() {
			t.Fatal("the fan is not in the model before being forgotten")
		}
		if _, err := privacy.Forget(ctx, st.Client, ids.Users[7]); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Train(ctx, "popular", now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if named() {
			t.Fatal("the forgotten fan's ID is still in the newest model")
		}
		// The rest still get feeds.
		if p, err := svc.Recommend(ctx, feed.Request{UserID: ids.Users[8], First: 5, Ranker: "popular", Now: now}); err != nil || len(p.Items) == 0 {
			t.Fatalf("feed after forgetting another fan: %v", err)
		}
	})
}

// The interests ads use come from the interactions the feed read anyway.
func TestInterestsFromRecentHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cfg := seed.Demo()
		cfg.Users, cfg.Influencers, cfg.Contents, cfg.Interactions = 20, 4, 40, 200
		cfg.Now = now
		w, ids := seed.MustLoad(t, st.Client, cfg)
		fan, err := st.Client.User.Create().SetHandle("fresh_fan").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a, b := 0, 1
		for _, x := range []struct {
			c    int
			kind interaction.Kind
		}{{a, interaction.KindLIKE}, {b, interaction.KindVIEW}, {b, interaction.KindSKIP}} {
			if err := st.Client.Interaction.Create().SetUserID(fan.ID).SetContentID(ids.Contents[x.c]).
				SetKind(x.kind).SetOccurredAt(now.Add(-time.Hour)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		svc := replica(t, st)
		if _, err := svc.Train(ctx, "popular", now); err != nil {
			t.Fatal(err)
		}
		p, err := svc.Recommend(ctx, feed.Request{UserID: fan.ID, First: 5, Ranker: "popular", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		tags, creators, err := svc.Interests(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		// b's view (1) and skip (-1) cancel out: only a's tags and creator remain.
		want := map[string]float64{}
		for _, tag := range w.Contents[a].Tags {
			want[tag] += 1 / float64(len(w.Contents[a].Tags))
		}
		if len(tags) != len(want) {
			t.Fatalf("tags %v, want %v", tags, want)
		}
		for tag, v := range want {
			if diff := tags[tag] - v; diff > 1e-9 || diff < -1e-9 {
				t.Fatalf("tags %v, want %v", tags, want)
			}
		}
		if len(creators) != 1 || creators[string(ids.Influencers[w.Contents[a].Influencer])] != 1 {
			t.Fatalf("creators %v", creators)
		}
	})
}
