package ingest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/ingest"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

func parseFile(t *testing.T, path string, opt ingest.Options) (*ingest.Result, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ingest.Parse(f, opt)
}

func TestParseMovieLens(t *testing.T) {
	t.Parallel()
	res, err := parseFile(t, "testdata/u.data", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Lines != 12 || len(res.Records) != 12 || res.Skipped != 0 {
		t.Fatalf("lines %d records %d skipped %d, want 12 12 0", res.Lines, len(res.Records), res.Skipped)
	}
	r := res.Records[0]
	if r.User != "196" || r.Item != "242" || r.Rating != 3 || r.Kind != interaction.KindVIEW ||
		!r.At.Equal(time.Unix(881250949, 0)) || r.Line != 1 {
		t.Errorf("first record %+v", r)
	}
	if k := res.Records[7].Kind; k != interaction.KindLIKE { // rating 5
		t.Errorf("rating 5 gave %s, want LIKE", k)
	}
	if k := res.Records[5].Kind; k != interaction.KindLIKE { // rating 4: the threshold is inclusive
		t.Errorf("rating 4 gave %s, want LIKE", k)
	}
	// Lines 11 and 12 are the same text: the same event ID; others differ.
	if res.Records[10].EventID != res.Records[11].EventID || res.Records[0].EventID == res.Records[10].EventID {
		t.Errorf("event IDs are not line hashes: %q %q %q", res.Records[0].EventID, res.Records[10].EventID, res.Records[11].EventID)
	}
	// A higher threshold turns the 4 into a VIEW.
	res, err = parseFile(t, "testdata/u.data", ingest.Options{LikeAt: 5})
	if err != nil {
		t.Fatal(err)
	}
	if k := res.Records[5].Kind; k != interaction.KindVIEW {
		t.Errorf("rating 4 with LikeAt 5 gave %s", k)
	}
}

func TestParseCSVByHeader(t *testing.T) {
	t.Parallel()
	res, err := parseFile(t, "testdata/items.csv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 4 {
		t.Fatalf("%d records, want 4", len(res.Records))
	}
	want := []struct {
		user, item string
		kind       interaction.Kind
		at         time.Time
		title      string
		tags       string
		line       int
	}{
		{"alice", "v1", interaction.KindVIEW, time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), "Morning yoga flow", "fitness,yoga", 2},
		{"alice", "v2", interaction.KindLIKE, time.Unix(1793527200, 0).UTC(), "Ten minute core", "fitness", 3},
		{"bob", "v1", interaction.KindSHARE, time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC), "", "", 4},
		{"Bob Smith", "v3", interaction.KindCLICK, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), "Vegan chili, fast", "cooking,vegan", 5},
	}
	for i, w := range want {
		r := res.Records[i]
		if r.User != w.user || r.Item != w.item || r.Kind != w.kind || !r.At.Equal(w.at) || r.Title != w.title ||
			strings.Join(r.Tags, ",") != w.tags || r.Line != w.line {
			t.Errorf("record %d = %+v, want %+v", i, r, w)
		}
	}

	// A TSV with a rating column instead of kinds.
	res, err = parseFile(t, "testdata/ratings.tsv", ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 2 || res.Records[0].Kind != interaction.KindLIKE || res.Records[1].Kind != interaction.KindVIEW ||
		res.Records[0].Rating != 4.5 {
		t.Fatalf("tsv records %+v", res.Records)
	}
}

func TestParseBadLines(t *testing.T) {
	t.Parallel()
	_, err := parseFile(t, "testdata/bad.data", ingest.Options{})
	var le *ingest.LineError
	if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, ingest.ErrMalformed) {
		t.Fatalf("err = %v, want a malformed line 3", err)
	}
	res, err := parseFile(t, "testdata/bad.data", ingest.Options{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 2 || len(res.Records) != 3 || res.FirstBad == nil || res.FirstBad.Line != 3 {
		t.Fatalf("skip-bad: skipped %d, records %d, first %v; want 2, 3, line 3", res.Skipped, len(res.Records), res.FirstBad)
	}

	cases := map[string]string{
		"no kind or rating column": "user,item,timestamp\n1,2,3\n",
		"no user column":           "item,kind,timestamp\n1,VIEW,3\n",
		"unknown kind":             "user,item,kind,timestamp\n1,2,VIEW,3\n1,2,POKE,3\n",
		"bad timestamp":            "user,item,kind,timestamp\n1,2,VIEW,yesterday\n",
		"empty user":               "user,item,kind,timestamp\n,2,VIEW,3\n",
		"negative rating":          "user,item,rating,timestamp\n1,2,-1,3\n",
		"short row":                "user,item,kind,timestamp\n1,2,VIEW\n",
		"future timestamp":         "user,item,kind,timestamp\n1,2,VIEW,99999999999\n",
	}
	for name, in := range cases {
		if _, err := ingest.Parse(strings.NewReader(in), ingest.Options{Format: ingest.CSV}); !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want a line error", name, err)
		}
	}
	if _, err := ingest.Parse(strings.NewReader(cases["unknown kind"]), ingest.Options{}); !errors.As(err, &le) || le.Line != 3 {
		t.Errorf("unknown kind: err = %v, want line 3", err)
	}
}

func TestHandle(t *testing.T) {
	t.Parallel()
	if h := ingest.Handle("ml", "196"); h != "ml_196" {
		t.Errorf("Handle(ml, 196) = %q", h)
	}
	h := ingest.Handle("csv", "Bob Smith")
	if h != ingest.Handle("csv", "Bob Smith") || !strings.HasPrefix(h, "csv_") || len(h) > 30 || strings.ContainsAny(h, " B") {
		t.Errorf("Handle(csv, Bob Smith) = %q", h)
	}
	if ingest.Handle("csv", "bob smith") == h {
		t.Error("IDs differing in case share a handle")
	}
}

func TestImportIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		res, err := parseFile(t, "testdata/u.data", ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := ingest.Import(ctx, st.Client, "ml", res.Records, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 12 lines, one an exact repeat: 11 interactions, 10 users, 10 items.
		if sum.Imported != 11 || sum.Duplicates != 1 || sum.NewUsers != 10 || sum.NewItems != 10 {
			t.Fatalf("first import %+v", sum)
		}
		u, err := st.Client.User.Query().Where(user.Handle("ml_196")).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u.ExternalID == nil || *u.ExternalID != "ml:196" {
			t.Errorf("user external id %v", u.ExternalID)
		}
		if n := st.Client.Interaction.Query().Where(interaction.UserID(u.ID)).CountX(ctx); n != 2 {
			t.Errorf("ml_196 has %d interactions, want 2", n)
		}
		c, err := st.Client.Content.Query().Where(content.ExternalID("ml:242")).WithInfluencer().Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.Edges.Influencer.Handle != ingest.ImportedHandle || !c.PublishedAt.Equal(time.Unix(881250949, 0)) {
			t.Errorf("item %+v by %s", c, c.Edges.Influencer.Handle)
		}

		again, err := ingest.Import(ctx, st.Client, "ml", res.Records, nil)
		if err != nil {
			t.Fatal(err)
		}
		if again.Imported != 0 || again.NewUsers != 0 || again.NewItems != 0 || again.Duplicates != 12 {
			t.Fatalf("re-import %+v, want nothing new", again)
		}
		if n := st.Client.Interaction.Query().CountX(ctx); n != 11 {
			t.Errorf("%d interactions after re-import, want 11", n)
		}
		if n := st.Client.User.Query().CountX(ctx); n != 10 {
			t.Errorf("%d users after re-import, want 10", n)
		}

		// A CSV from another source adds its own users and items beside.
		csvRes, err := parseFile(t, "testdata/items.csv", ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum, err = ingest.Import(ctx, st.Client, "csv", csvRes.Records, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Imported != 4 || sum.NewUsers != 3 || sum.NewItems != 3 {
			t.Fatalf("csv import %+v", sum)
		}
		v1, err := st.Client.Content.Query().Where(content.ExternalID("csv:v1")).Only(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Title != "Morning yoga flow" || strings.Join(v1.Tags, ",") != "fitness,yoga" || v1.Category != "fitness" {
			t.Errorf("csv item %+v", v1)
		}
	})
}

func TestImportFailureStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		res, err := parseFile(t, "testdata/u.data", ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// A record the database refuses, after users and items were created.
		recs := append(res.Records, ingest.Record{Line: 13, User: "7", Item: "8", Kind: "POKE", At: time.Now(), EventID: "imp_x"})
		if _, err := ingest.Import(ctx, st.Client, "ml", recs, nil); err == nil {
			t.Fatal("import with an invalid kind succeeded")
		}
		for name, n := range map[string]int{
			"users":        st.Client.User.Query().CountX(ctx),
			"contents":     st.Client.Content.Query().CountX(ctx),
			"interactions": st.Client.Interaction.Query().CountX(ctx),
			"influencers":  st.Client.Influencer.Query().CountX(ctx),
		} {
			if n != 0 {
				t.Errorf("%d %s stored by a failed import", n, name)
			}
		}
		if _, err := ingest.Import(ctx, st.Client, "Bad Source", res.Records, nil); err == nil {
			t.Error("a source that is not a short lowercase name was accepted")
		}
	})
}
