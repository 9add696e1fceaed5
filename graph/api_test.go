package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

var now = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func newServer(t *testing.T, st *store.Store) *graphtest.Server {
	return graphtest.New(t, st, func() time.Time { return now })
}

func createUser(t *testing.T, s *graphtest.Server, handle string) string {
	t.Helper()
	var out struct{ CreateUser struct{ ID string } }
	s.Must(`mutation($h: String!) { createUser(input: {handle: $h, displayName: "Fan", country: "DE", ageBracket: AGE_25_34}) { id } }`,
		map[string]any{"h": handle}, &out)
	return out.CreateUser.ID
}

func createInfluencer(t *testing.T, s *graphtest.Server, handle, category string) string {
	t.Helper()
	var out struct{ CreateInfluencer struct{ ID string } }
	s.Must(`mutation($h: String!, $c: String!) { createInfluencer(input: {handle: $h, displayName: "Creator", category: $c}) { id } }`,
		map[string]any{"h": handle, "c": category}, &out)
	return out.CreateInfluencer.ID
}

func createContent(t *testing.T, s *graphtest.Server, influencerID, title string, tags []string) string {
	t.Helper()
	var out struct{ CreateContent struct{ ID string } }
	s.Must(`mutation($i: ID!, $t: String!, $tags: [String!], $p: Time) { createContent(input: {influencerID: $i, kind: VIDEO, title: $t, tags: $tags, publishedAt: $p}) { id } }`,
		map[string]any{"i": influencerID, "t": title, "tags": tags, "p": now.Add(-60 * 24 * time.Hour)}, &out)
	return out.CreateContent.ID
}

func count(t *testing.T, st *store.Store, table string) int {
	t.Helper()
	var n int
	if err := st.DB.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEntities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		cid := createContent(t, s, iid, "Ramen at home", []string{"ramen", "cooking"})

		// Relay node lookup by opaque ID.
		var node struct {
			Node struct {
				Typename string `json:"__typename"`
				Title    string
			}
		}
		s.Must(`query($id: ID!) { node(id: $id) { __typename ... on Content { title } } }`, map[string]any{"id": cid}, &node)
		if node.Node.Typename != "Content" || node.Node.Title != "Ramen at home" {
			t.Fatalf("node = %+v", node)
		}
		if !strings.HasPrefix(uid, "US") || !strings.HasPrefix(iid, "IN") || len(uid) != 28 {
			t.Fatalf("ids are not prefixed ULIDs: %s %s", uid, iid)
		}

		// Update, then a connection with where and orderBy.
		s.Must(`mutation($id: ID!) { updateInfluencer(id: $id, input: {bio: "I cook."}) { bio } }`, map[string]any{"id": iid}, nil)
		createInfluencer(t, s, "gamer_bo", "gaming")
		var conn struct {
			Influencers struct {
				TotalCount int
				Edges      []struct {
					Cursor string
					Node   struct{ Handle, Bio string }
				}
				PageInfo struct{ HasNextPage bool }
			}
		}
		s.Must(`{ influencers(first: 1, orderBy: {field: HANDLE, direction: ASC}, where: {handleContains: "_"}) { totalCount edges { cursor node { handle bio } } pageInfo { hasNextPage } } }`, nil, &conn)
		if conn.Influencers.TotalCount != 2 || len(conn.Influencers.Edges) != 1 || conn.Influencers.Edges[0].Node.Handle != "chef_anna" ||
			conn.Influencers.Edges[0].Node.Bio != "I cook." || !conn.Influencers.PageInfo.HasNextPage {
			t.Fatalf("influencers = %+v", conn)
		}

		// Follow twice counts once; unfollow removes it.
		for range 2 {
			s.Must(`mutation($u: ID!, $i: ID!) { follow(userId: $u, influencerId: $i) { createdAt } }`, map[string]any{"u": uid, "i": iid}, nil)
		}
		var fc struct{ Node struct{ FollowerCount int } }
		s.Must(`query($id: ID!) { node(id: $id) { ... on Influencer { followerCount } } }`, map[string]any{"id": iid}, &fc)
		if fc.Node.FollowerCount != 1 || count(t, st, "follows") != 1 {
			t.Fatalf("follower count %d, rows %d", fc.Node.FollowerCount, count(t, st, "follows"))
		}
		var un struct{ Unfollow bool }
		s.Must(`mutation($u: ID!, $i: ID!) { unfollow(userId: $u, influencerId: $i) }`, map[string]any{"u": uid, "i": iid}, &un)
		s.Must(`query($id: ID!) { node(id: $id) { ... on Influencer { followerCount } } }`, map[string]any{"id": iid}, &fc)
		if !un.Unfollow || fc.Node.FollowerCount != 0 {
			t.Fatalf("after unfollow: %v %d", un.Unfollow, fc.Node.FollowerCount)
		}
	})
}

func TestBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		users := count(t, st, "users")

		cases := []struct {
			name, code, query string
			vars              map[string]any
		}{
			{"empty handle", "BAD_INPUT", `mutation { createUser(input: {handle: ""}) { id } }`, nil},
			{"bad handle chars", "BAD_INPUT", `mutation { createUser(input: {handle: "Fan One!"}) { id } }`, nil},
			{"duplicate handle", "CONFLICT", `mutation { createUser(input: {handle: "fan_one"}) { id } }`, nil},
			{"over-long display name", "BAD_INPUT", `mutation($n: String!) { createUser(input: {handle: "fan_two", displayName: $n}) { id } }`, map[string]any{"n": strings.Repeat("x", 101)}},
			{"bad country", "BAD_INPUT", `mutation { createUser(input: {handle: "fan_three", country: "Germany"}) { id } }`, nil},
			{"take rate over 100%", "BAD_INPUT", `mutation { createInfluencer(input: {handle: "greedy", takeRateBps: 10001}) { id } }`, nil},
			{"content of unknown creator", "NOT_FOUND", `mutation { createContent(input: {influencerID: "IN01JAAAAAAAAAAAAAAAAAAAAAAA", kind: POST, title: "x"}) { id } }`, nil},
			{"content empty title", "BAD_INPUT", `mutation($i: ID!) { createContent(input: {influencerID: $i, kind: POST, title: ""}) { id } }`, map[string]any{"i": iid}},
			{"update unknown user", "NOT_FOUND", `mutation { updateUser(id: "US01JAAAAAAAAAAAAAAAAAAAAAAA", input: {displayName: "x"}) { id } }`, nil},
			{"follow unknown influencer", "NOT_FOUND", `mutation($u: ID!) { follow(userId: $u, influencerId: "IN01JAAAAAAAAAAAAAAAAAAAAAAA") { createdAt } }`, map[string]any{"u": uid}},
			{"node with garbage id", "NOT_FOUND", `{ node(id: "nope") { id } }`, nil},
			{"profile of unknown user", "NOT_FOUND", `{ userProfile(userId: "US01JAAAAAAAAAAAAAAAAAAAAAAA") { interactionCount } }`, nil},
			{"stats window reversed", "BAD_INPUT", `query($i: ID!) { influencerStats(influencerId: $i, from: "2026-11-10T00:00:00Z", to: "2026-11-01T00:00:00Z") { views } }`, map[string]any{"i": iid}},
			{"first over 100", "BAD_INPUT", `{ users(first: 101) { totalCount } }`, nil},
			{"nested first over 100", "BAD_INPUT", `{ influencers(first: 1) { edges { node { contents(first: 500) { totalCount } } } } }`, nil},
			{"unknown field", "GRAPHQL_VALIDATION_FAILED", `{ users { nope } }`, nil},
			{"syntax error", "GRAPHQL_PARSE_FAILED", `{ users { `, nil},
			{"too deep", "BAD_INPUT", `{ influencers(first: 1) { edges { node { followers(first: 1) { edges { node { following(first: 1) { edges { node { followers(first: 1) { edges { node { handle } } } } } } } } } } } } }`, nil},
			{"empty interaction batch", "BAD_INPUT", `mutation { recordInteractions(input: []) { accepted } }`, nil},
			{"nested connection without first", "BAD_INPUT", `{ influencers(first: 5) { edges { node { followers { totalCount } } } } }`, nil},
			{"nested connection in a fragment without first", "BAD_INPUT", `query($i: ID!) { node(id: $i) { ... on Influencer { contents { totalCount } } } }`, map[string]any{"i": iid}},
			{"too many nodes", "BAD_INPUT", `{ users(first: 100) { edges { node { following(first: 100) { edges { node { followers(first: 100) { edges { node { id } } } } } } } } } }`, nil},
			{"too many ids", "BAD_INPUT", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": manyIDs(101)}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := s.Fail(c.code, c.query, c.vars)
				for _, e := range r.Errors {
					if strings.Contains(strings.ToLower(e.Message), "sql") || strings.Contains(e.Message, "constraint") {
						t.Errorf("error leaks storage details: %q", e.Message)
					}
				}
			})
		}
		if got := count(t, st, "users"); got != users {
			t.Fatalf("bad input stored users: %d -> %d", users, got)
		}
		if got := count(t, st, "contents"); got != 0 {
			t.Fatalf("bad input stored content: %d", got)
		}

		// Oversize batch: rejected whole, nothing stored.
		items := make([]map[string]any, 1001)
		for i := range items {
			items[i] = map[string]any{"userId": uid, "contentId": "CO01JAAAAAAAAAAAAAAAAAAAAAAA", "kind": "VIEW"}
		}
		s.Fail("BAD_INPUT", `mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted } }`, map[string]any{"in": items})

		// Transport-level mistakes.
		if r := s.Raw(http.MethodPost, "/graphql", "application/json", []byte(`{"query": `)); r.Status != http.StatusBadRequest || !r.HasCode("BAD_INPUT") {
			t.Errorf("malformed JSON: status %d codes %v", r.Status, r.Codes())
		}
		if r := s.Raw(http.MethodPost, "/graphql", "text/plain", []byte(`{"query":"{ __typename }"}`)); r.Status != http.StatusUnsupportedMediaType || !r.HasCode("BAD_INPUT") {
			t.Errorf("wrong content type: status %d codes %v", r.Status, r.Codes())
		}
		nul := []byte(`{"query":"mutation($n: String!) { createUser(input: {handle: \"fan_nul\", displayName: $n}) { id } }","variables":{"n":"a\u0000b"}}`)
		if r := s.Raw(http.MethodPost, "/graphql", "application/json", nul); r.Status != http.StatusBadRequest || !r.HasCode("BAD_INPUT") {
			t.Errorf("NUL in a string: status %d codes %v", r.Status, r.Codes())
		}
		if r := s.Raw(http.MethodPut, "/graphql", "application/json", nil); r.Status != http.StatusMethodNotAllowed {
			t.Errorf("PUT: status %d", r.Status)
		}
		big := []byte(`{"query":"{ __typename }", "x": "` + strings.Repeat("a", 2<<20) + `"}`)
		if r := s.Raw(http.MethodPost, "/graphql", "application/json", big); r.Status != http.StatusRequestEntityTooLarge || !r.HasCode("BAD_INPUT") {
			t.Errorf("oversized body: status %d", r.Status)
		}
		// GET works for queries but not mutations.
		if r := s.Raw(http.MethodGet, "/graphql?query=%7B__typename%7D", "", nil); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("GET query: status %d errors %v", r.Status, r.Errors)
		}
		if r := s.Raw(http.MethodGet, "/graphql?query=mutation%7Bunfollow(userId:%22x%22,influencerId:%22y%22)%7D", "", nil); !r.HasCode("BAD_INPUT") {
			t.Errorf("GET mutation: status %d codes %v", r.Status, r.Codes())
		}
	})
}

func TestRecordInteractions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		c1 := createContent(t, s, iid, "Ramen at home", []string{"ramen", "japanese"})
		c2 := createContent(t, s, iid, "Pasta night", []string{"pasta", "italian"})
		s.Must(`mutation($u: ID!, $i: ID!) { follow(userId: $u, influencerId: $i) { createdAt } }`, map[string]any{"u": uid, "i": iid}, nil)

		const q = `mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted duplicates rejected { index code message } } }`
		type payload struct {
			RecordInteractions struct {
				Accepted, Duplicates int
				Rejected             []struct {
					Index         int
					Code, Message string
				}
			}
		}
		in := []map[string]any{
			{"userId": uid, "contentId": c1, "kind": "VIEW", "dwellMs": 30000, "occurredAt": now.Add(-2 * time.Hour), "eventId": "e1"},
			{"userId": uid, "contentId": c1, "kind": "LIKE", "occurredAt": now.Add(-2 * time.Hour), "eventId": "e2"},
			{"userId": uid, "contentId": "CO01JAAAAAAAAAAAAAAAAAAAAAAA", "kind": "VIEW"},        // unknown content
			{"userId": uid, "contentId": c2, "kind": "VIEW", "dwellMs": -5},                     // bad dwell
			{"userId": uid, "contentId": c2, "kind": "VIEW", "occurredAt": now.Add(time.Hour)},  // future
			{"userId": "garbage", "contentId": c2, "kind": "VIEW"},                              // malformed id
			{"userId": uid, "contentId": c2, "kind": "SKIP", "occurredAt": now.Add(-time.Hour)}, // fine
		}
		var p payload
		s.Must(q, map[string]any{"in": in}, &p)
		r := p.RecordInteractions
		if r.Accepted != 3 || len(r.Rejected) != 4 || r.Duplicates != 0 {
			t.Fatalf("payload = %+v", r)
		}
		wantIdx := map[int]string{2: "NOT_FOUND", 3: "BAD_INPUT", 4: "BAD_INPUT", 5: "BAD_INPUT"}
		for _, rej := range r.Rejected {
			if wantIdx[rej.Index] != rej.Code || rej.Message == "" {
				t.Errorf("rejection %+v, want code %q", rej, wantIdx[rej.Index])
			}
		}
		if n := count(t, st, "interactions"); n != 3 {
			t.Fatalf("stored %d interactions, want 3", n)
		}
		// Retrying the batch stores nothing new for items with event IDs.
		s.Must(q, map[string]any{"in": in[:2]}, &p)
		if p.RecordInteractions.Accepted != 0 || p.RecordInteractions.Duplicates != 2 {
			t.Fatalf("retry = %+v", p.RecordInteractions)
		}
		if n := count(t, st, "interactions"); n != 3 {
			t.Fatalf("retry stored more: %d", n)
		}

		var prof struct {
			UserProfile struct {
				InteractionCount int
				Interests        []struct {
					Tag    string
					Weight float64
				}
				Activity []struct {
					Kind  string
					Count int
				}
				ActiveHours    []int
				TopInfluencers []struct {
					Influencer struct{ Handle string }
					Weight     float64
				}
			}
		}
		s.Must(`query($u: ID!) { userProfile(userId: $u) { interactionCount interests { tag weight } activity { kind count } activeHours topInfluencers { influencer { handle } weight } } }`,
			map[string]any{"u": uid}, &prof)
		up := prof.UserProfile
		if up.InteractionCount != 3 || len(up.ActiveHours) != 24 || up.ActiveHours[10] != 2 || up.ActiveHours[11] != 1 {
			t.Fatalf("profile = %+v", up)
		}
		// View (1) + like (3) on ramen/japanese; the skip on pasta is negative and drops out.
		if len(up.Interests) != 2 || up.Interests[0].Tag != "japanese" || up.Interests[1].Tag != "ramen" ||
			fmt.Sprintf("%.2f", up.Interests[0].Weight) != "0.50" {
			t.Fatalf("interests = %+v", up.Interests)
		}
		if len(up.TopInfluencers) != 1 || up.TopInfluencers[0].Influencer.Handle != "chef_anna" {
			t.Fatalf("top influencers = %+v", up.TopInfluencers)
		}

		var stats struct {
			InfluencerStats struct {
				Followers      int
				Views          int
				EngagementRate float64
				FollowerGrowth []struct {
					Day   time.Time
					Count int
				}
				TopContent []struct {
					Content            struct{ Title string }
					Views, Engagements int
				}
			}
		}
		s.Must(`query($i: ID!, $f: Time, $t: Time) { influencerStats(influencerId: $i, from: $f, to: $t) { followers views engagementRate followerGrowth { day count } topContent { content { title } views engagements } } }`,
			map[string]any{"i": iid, "f": now.Add(-48 * time.Hour), "t": now.Add(time.Hour)}, &stats)
		is := stats.InfluencerStats
		if is.Followers != 1 || is.Views != 1 || is.EngagementRate != 1 || len(is.FollowerGrowth) != 3 || is.FollowerGrowth[2].Count != 1 ||
			len(is.TopContent) != 2 || is.TopContent[0].Content.Title != "Ramen at home" {
			b, _ := json.Marshal(is)
			t.Fatalf("stats = %s", b)
		}
	})
}

func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "US01JAAAAAAAAAAAAAAAAAAAAAAA"
	}
	return out
}
