package graph_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/ledgeraccount"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/graph"
	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/ratelimit"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// side is one partner and one creator with their business: a campaign with
// an ad, a product linked on the creator's content, and keys for both.
type side struct {
	partner, campaign, ad, product, link, linkCode pulid.ID
	conversion                                     pulid.ID
	influencer, content                            pulid.ID
	partnerKey, influencerKey                      string
}

func newSide(t *testing.T, s *graphtest.Server, name string) side {
	t.Helper()
	ctx := context.Background()
	c := s.Store.Client
	var sd side
	sd.influencer = pulid.ID(createInfluencer(t, s, "creator_"+name, "cooking"))
	sd.content = pulid.ID(createContent(t, s, string(sd.influencer), "Dish "+name, []string{"food"}))
	p := c.Partner.Create().SetName("Brand " + name).SetCurrency("EUR").SaveX(ctx)
	camp := c.Campaign.Create().SetPartnerID(p.ID).SetName("Launch " + name).SetCurrency("EUR").SetBudgetMinor(100000).
		SetPricing("CPC").SetBidMinor(30).SetStartsAt(now.AddDate(0, -1, 0)).SetEndsAt(now.AddDate(0, 1, 0)).SaveX(ctx)
	ad := c.Ad.Create().SetCampaignID(camp.ID).SetTitle("Buy " + name).SetTargetURL("https://example.com/" + name).SaveX(ctx)
	pr := c.Product.Create().SetPartnerID(p.ID).SetName("Pan " + name).SetPriceMinor(2500).SetCurrency("EUR").SaveX(ctx)
	l := c.ProductLink.Create().SetProductID(pr.ID).SetContentID(sd.content).SetCode("code-" + name).SetCommissionBps(1000).SaveX(ctx)
	sd.partner, sd.campaign, sd.ad, sd.product, sd.link, sd.linkCode = p.ID, camp.ID, ad.ID, pr.ID, l.ID, pulid.ID(l.Code)
	cv := c.Conversion.Create().SetLinkID(l.ID).SetPartnerID(p.ID).SetInfluencerID(sd.influencer).SetOrderRef("seed-" + name).
		SetAmountMinor(5000).SetCommissionMinor(500).SetCurrency("EUR").SetOccurredAt(now.AddDate(0, 0, -1)).SetAvailableAt(now.AddDate(0, 0, 29)).SetIdempotencyKey("seed-conv-" + name).SetRequestHash("").SaveX(ctx)
	sd.conversion = cv.ID
	sd.partnerKey = s.NewKey(auth.Partner, string(p.ID))
	sd.influencerKey = s.NewKey(auth.Influencer, string(sd.influencer))
	return sd
}

// ownedCall is a query or mutation that only the owner of vars' entity may make.
type ownedCall struct {
	field string
	role  auth.Role // whose business it is
	query string
	vars  func(sd side) map[string]any
}

// ownedCalls lists every partner- and creator-visible field of the API.
// TestEveryOwnedFieldIsWalked fails when the schema gains one that is not here.
var ownedCalls = []ownedCall{
	{"campaignStats", auth.Partner, `query($id: ID!) { campaignStats(campaignId: $id, groupBy: [DAY]) { total { impressions } } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.campaign} }},
	{"influencerStats", auth.Influencer, `query($id: ID!) { influencerStats(influencerId: $id) { followers } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"influencerAudience", auth.Influencer, `query($id: ID!) { influencerAudience(influencerId: $id) { followers } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"updateInfluencer", auth.Influencer, `mutation($id: ID!) { updateInfluencer(id: $id, input: {bio: "mine now"}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"createContent", auth.Influencer, `mutation($id: ID!) { createContent(input: {influencerID: $id, kind: POST, title: "mine"}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"updateContent", auth.Influencer, `mutation($id: ID!) { updateContent(id: $id, input: {title: "mine"}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.content} }},
	// Private entities, whatever the path to them.
	{"influencerEarnings", auth.Influencer, `query($id: ID!) { influencerEarnings(influencerId: $id) { from } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"revenueForecast", auth.Influencer, `query($id: ID!) { revenueForecast(influencerId: $id, days: 7) { days } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.influencer} }},
	{"createProduct", auth.Partner, `mutation($id: ID!) { createProduct(input: {partnerId: $id, name: "Pot", priceMinor: 100, currency: "EUR", url: "https://example.com/pot"}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.partner} }},
	{"createCampaign", auth.Partner, `mutation($id: ID!, $s: Time!, $e: Time!) { createCampaign(input: {partnerId: $id, name: "More", budgetMinor: 1000, pricing: CPC, bidMinor: 10, startsAt: $s, endsAt: $e}) { id } }`,
		func(sd side) map[string]any {
			return map[string]any{"id": sd.partner, "s": now, "e": now.AddDate(0, 1, 0)}
		}},
	{"createAd", auth.Partner, `mutation($id: ID!) { createAd(input: {campaignId: $id, title: "Another", targetUrl: "https://example.com/ad"}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.campaign} }},
	{"createProductLink", auth.Partner, `mutation($id: ID!, $c: ID!) { createProductLink(input: {productId: $id, contentId: $c, commissionBps: 500}) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.product, "c": sd.content} }},
	{"recordConversion", auth.Partner, `mutation($code: String!) { recordConversion(linkCode: $code, orderRef: "order-1", amountMinor: 1000, currency: "EUR", idempotencyKey: "conv-1") { id } }`,
		func(sd side) map[string]any { return map[string]any{"code": sd.linkCode} }},
	{"reverseConversion", auth.Partner, `mutation($id: ID!) { reverseConversion(id: $id, idempotencyKey: "rev-1") { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.conversion} }},
	{"node(Campaign)", auth.Partner, `query($id: ID!) { node(id: $id) { id ... on Campaign { budgetMinor } } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.campaign} }},
	{"nodes(Campaign)", auth.Partner, `query($id: ID!) { nodes(ids: [$id]) { id } }`,
		func(sd side) map[string]any { return map[string]any{"id": sd.campaign} }},
}

func ownerKey(sd side, role auth.Role) string {
	if role == auth.Partner {
		return sd.partnerKey
	}
	return sd.influencerKey
}

func TestOwnershipWalk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		a, b := newSide(t, s, "a"), newSide(t, s, "b")
		for _, c := range ownedCalls {
			// Another owner's key of the right role: FORBIDDEN, nothing changes.
			r := s.As(ownerKey(b, c.role)).Do(c.query, c.vars(a))
			if !r.HasCode("FORBIDDEN") {
				t.Errorf("%s with another owner's key: %+v %s", c.field, r.Errors, r.Data)
			}
			// The other role's key of the same side: FORBIDDEN too.
			other := auth.Partner
			if c.role == auth.Partner {
				other = auth.Influencer
			}
			if r := s.As(ownerKey(a, other)).Do(c.query, c.vars(a)); !r.HasCode("FORBIDDEN") {
				t.Errorf("%s with a %s key: %+v", c.field, other, r.Errors)
			}
			// No key: UNAUTHENTICATED.
			if r := s.As("").Do(c.query, c.vars(a)); !r.HasCode("UNAUTHENTICATED") {
				t.Errorf("%s without a key: %+v", c.field, r.Errors)
			}
			// The owner passes the check (so the refusals above are about
			// ownership); the call itself may still fail for its own reasons.
			if r := s.As(ownerKey(a, c.role)).Do(c.query, c.vars(a)); r.HasCode("FORBIDDEN") || r.HasCode("UNAUTHENTICATED") {
				t.Errorf("%s by its owner: %+v", c.field, r.Errors)
			}
		}
		// Nothing the refused mutations asked for happened: only the
		// owner's own calls created a content, a campaign, a product.
		for table, want := range map[string]int{"contents": 3, "campaigns": 3, "products": 3} {
			if n := count(t, st, table); n != want {
				t.Errorf("%s = %d, want %d", table, n, want)
			}
		}
	})
}

// TestEveryOwnedFieldIsWalked keeps ownedCalls complete: every Query and
// Mutation field whose @auth lets PARTNER or INFLUENCER keys in with an
// owner check must be walked above; and every field of the hand-written
// schema files this suite guards carries @auth or is public on purpose.
func TestEveryOwnedFieldIsWalked(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	walked := map[string]bool{}
	for _, c := range ownedCalls {
		walked[strings.SplitN(c.field, "(", 2)[0]] = true
	}
	public := map[string]bool{"node": true, "nodes": true, "users": true, "influencers": true, "contents": true, "viewer": true}
	guarded := []string{"schema.graphqls", "access.graphqls", "money.graphqls", "feed.graphqls", "experiment.graphqls"}
	for _, typ := range []*ast.Definition{schema.Query, schema.Mutation} {
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			d := f.Directives.ForName("auth")
			if d == nil {
				src := ""
				if f.Position != nil && f.Position.Src != nil {
					src = f.Position.Src.Name
				}
				if !public[f.Name] && slices.ContainsFunc(guarded, func(g string) bool { return strings.HasSuffix(src, g) }) {
					t.Errorf("%s.%s (%s) has no @auth and is not listed as public", typ.Name, f.Name, src)
				}
				continue
			}
			roles := d.Arguments.ForName("roles").Value.Raw + d.Arguments.ForName("roles").Value.String()
			if d.Arguments.ForName("owner") != nil && (strings.Contains(roles, "PARTNER") || strings.Contains(roles, "INFLUENCER")) && !walked[f.Name] {
				t.Errorf("%s.%s is owner-checked but not walked in ownedCalls", typ.Name, f.Name)
			}
		}
	}
}

// TestMutationsDenyByDefault: a mutation without @auth (here trainRanker,
// if its file has none) is for ADMIN keys only.
func TestMutationsDenyByDefault(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	var bare string
	for _, f := range schema.Mutation.Fields {
		if f.Directives.ForName("auth") == nil && len(f.Arguments) > 0 && f.Arguments[0].Type.Name() == "String" && f.Arguments[0].Type.NonNull {
			bare = f.Name
			break
		}
	}
	if bare == "" {
		t.Skip("every mutation has @auth")
	}
	st := storetest.SQLite(t)
	s := newServer(t, st)
	q := "mutation { " + bare + "(" + schema.Mutation.Fields.ForName(bare).Arguments[0].Name + `: "x") { __typename } }`
	s.As("").Fail("UNAUTHENTICATED", q, nil)
	s.As(s.NewKey(auth.App, "")).Fail("FORBIDDEN", q, nil)
}

func TestBadKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		const protected = `mutation { createUser(input: {handle: "someone"}) { id } }`
		// Missing: public reads work, the rest is UNAUTHENTICATED.
		anon := s.As("")
		anon.Must(`{ influencers(first: 1) { totalCount } }`, nil, nil)
		anon.Fail("UNAUTHENTICATED", protected, nil)
		// Malformed, unknown (well-formed) and wrong-scheme keys: 401.
		for _, h := range []string{"Bearer nope", "Bearer " + auth.Prefix + strings.Repeat("A", 43), "Basic dXNlcjpwYXNz", "Bearer"} {
			c := s.As("")
			c.Header.Set("Authorization", h)
			r := c.Do(protected, nil)
			if r.Status != http.StatusUnauthorized || !r.HasCode("UNAUTHENTICATED") {
				t.Errorf("Authorization %q: status %d %+v", h, r.Status, r.Errors)
			}
		}
		// createApiKey returns the secret once; only its hash is stored.
		var out struct {
			CreateAPIKey struct {
				Secret string
				Key    struct{ ID, Role string }
			} `json:"createApiKey"`
		}
		s.Must(`mutation { createApiKey(role: APP, label: "web") { secret key { id role } } }`, nil, &out)
		app := out.CreateAPIKey.Secret
		if !strings.HasPrefix(app, auth.Prefix) || out.CreateAPIKey.Key.Role != "APP" {
			t.Fatalf("createApiKey = %+v", out)
		}
		var stored string
		st.DB.QueryRow(`SELECT hash FROM api_keys WHERE id = $1`, out.CreateAPIKey.Key.ID).Scan(&stored)
		sum := sha256.Sum256([]byte(app))
		if stored != hex.EncodeToString(sum[:]) {
			t.Fatalf("stored %q, want the SHA-256 of the secret", stored)
		}
		var v struct{ Viewer struct{ Role string } }
		s.As(app).Must(`{ viewer { role } }`, nil, &v)
		if v.Viewer.Role != "APP" {
			t.Fatalf("viewer = %+v", v)
		}
		s.As(app).Must(protected, nil, nil)
		// Wrong role: APP may not mint keys or read campaign stats.
		s.As(app).Fail("FORBIDDEN", `mutation { createApiKey(role: ADMIN) { secret } }`, nil)
		sd := newSide(t, s, "x")
		s.As(app).Fail("FORBIDDEN", `query($id: ID!) { campaignStats(campaignId: $id) { currency } }`, map[string]any{"id": sd.campaign})
		s.As(sd.partnerKey).Fail("FORBIDDEN", `mutation { createUser(input: {handle: "p_user"}) { id } }`, nil)
		// Bad createApiKey input.
		s.Fail("BAD_INPUT", `mutation { createApiKey(role: PARTNER) { secret } }`, nil)
		s.Fail("NOT_FOUND", `mutation { createApiKey(role: PARTNER, ownerId: "PA01JAAAAAAAAAAAAAAAAAAAAAAA") { secret } }`, nil)
		s.Fail("BAD_INPUT", `mutation($o: ID) { createApiKey(role: APP, ownerId: $o) { secret } }`, map[string]any{"o": sd.partner})
		// Revoked: 401 from then on.
		s.Must(`mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`, map[string]any{"id": out.CreateAPIKey.Key.ID}, nil)
		if r := s.As(app).Do(protected, nil); r.Status != http.StatusUnauthorized || !r.HasCode("UNAUTHENTICATED") {
			t.Fatalf("revoked key: %d %+v", r.Status, r.Errors)
		}
	})
}

func TestPersonalDataIsHidden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		createUser(t, s, "fan_private")
		const q = `{ users(first: 5) { edges { node { handle country ageBracket } } } }`
		var out struct {
			Users struct {
				Edges []struct {
					Node struct {
						Handle     string
						Country    *string
						AgeBracket *string
					}
				}
			}
		}
		s.As("").Must(q, nil, &out)
		if n := out.Users.Edges[0].Node; n.Handle != "fan_private" || n.Country != nil || n.AgeBracket != nil {
			t.Fatalf("anonymous sees %+v", n)
		}
		s.Must(q, nil, &out)
		if n := out.Users.Edges[0].Node; n.Country == nil || *n.Country != "DE" {
			t.Fatalf("admin sees %+v", n)
		}
		s.As("").Fail("FORBIDDEN", `{ users(where: {country: "DE"}) { totalCount } }`, nil)
	})
}

func TestCampaignStatsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		sd := newSide(t, s, "a")
		ctx := context.Background()
		kinds := []adevent.Kind{adevent.KindIMPRESSION, adevent.KindIMPRESSION, adevent.KindIMPRESSION, adevent.KindCLICK, adevent.KindCONVERSION}
		for i := range 40 {
			k := kinds[i%len(kinds)]
			b := st.Client.AdEvent.Create().SetCampaignID(sd.campaign).SetAdID(sd.ad).SetKind(k).
				SetInfluencerID(sd.influencer).SetContentID(sd.content).
				SetCostMinor(int64(i % 7)).SetOccurredAt(now.Add(-time.Duration(i) * 6 * time.Hour))
			if k == adevent.KindCONVERSION {
				b.SetRevenueMinor(1000)
			}
			b.SaveX(ctx)
		}
		var out struct {
			CampaignStats struct {
				Currency string
				Total    struct {
					Impressions, Clicks, Conversions, SpendMinor, RevenueMinor int64
					Ctr, Roas                                                  *float64
				}
				Groups []struct {
					Day     *time.Time
					Metrics struct{ Impressions, Clicks int64 }
				}
			}
		}
		s.As(sd.partnerKey).Must(`query($id: ID!, $from: Time) { campaignStats(campaignId: $id, from: $from, groupBy: [DAY]) {
			currency total { impressions clicks conversions spendMinor revenueMinor ctr roas } groups { day metrics { impressions clicks } } } }`,
			map[string]any{"id": sd.campaign, "from": now.AddDate(0, 0, -30)}, &out)
		cs := out.CampaignStats
		var imp, clk, conv, spend, rev int64
		st.DB.QueryRow(`SELECT
			COALESCE(SUM(CASE WHEN kind = 'IMPRESSION' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN kind = 'CLICK' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN kind = 'CONVERSION' THEN 1 ELSE 0 END), 0), COALESCE(SUM(cost_minor), 0), COALESCE(SUM(revenue_minor), 0)
			FROM ad_events`).Scan(&imp, &clk, &conv, &spend, &rev)
		if cs.Currency != "EUR" || cs.Total.Impressions != imp || cs.Total.Clicks != clk || cs.Total.Conversions != conv ||
			cs.Total.SpendMinor != spend || cs.Total.RevenueMinor != rev || imp != 24 {
			t.Fatalf("stats %+v, recount %d %d %d %d %d", cs.Total, imp, clk, conv, spend, rev)
		}
		if *cs.Total.Ctr != float64(clk)/float64(imp) || *cs.Total.Roas != float64(rev)/float64(spend) {
			t.Fatalf("ratios %+v", cs.Total)
		}
		var sum int64
		for _, g := range cs.Groups {
			sum += g.Metrics.Impressions
		}
		if len(cs.Groups) != 11 || sum != imp {
			t.Fatalf("%d day groups summing to %d impressions", len(cs.Groups), sum)
		}
		s.As(sd.partnerKey).Fail("BAD_INPUT", `query($id: ID!, $f: Time, $t: Time) { campaignStats(campaignId: $id, from: $f, to: $t) { currency } }`,
			map[string]any{"id": sd.campaign, "f": now, "t": now.AddDate(0, 0, -3)})
	})
}

func TestRateLimit(t *testing.T) {
	st := storetest.SQLite(t)
	s := graphtest.NewWith(t, st, graph.Deps{RateLimit: ratelimit.Config{Rate: 0.5, Burst: 2}})
	const q = `{ __typename }`
	s.Must(q, nil, nil)
	s.Must(q, nil, nil)
	body := strings.NewReader(`{"query":"{ __typename }"}`)
	req := httptest.NewRequest(http.MethodPost, "/graphql", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.AdminKey)
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code              string
				RetryAfterSeconds int
			}
		}
	}
	json.Unmarshal(rec.Body.Bytes(), &resp)
	if rec.Code != http.StatusTooManyRequests || len(resp.Errors) != 1 || resp.Errors[0].Extensions.Code != "RATE_LIMITED" ||
		resp.Errors[0].Extensions.RetryAfterSeconds != 2 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("third request: %d %s Retry-After %q", rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
	}
	// Buckets are per key: another key is not limited by the first.
	s.As(s.NewKey(auth.App, "")).Must(q, nil, nil)
}

func TestIntrospectionAndObservability(t *testing.T) {
	st := storetest.SQLite(t)
	s := newServer(t, st)
	const q = `{ __schema { queryType { name } } }`
	s.Must(q, nil, nil)
	if r := s.As("").Do(q, nil); len(r.Errors) == 0 {
		t.Fatal("anonymous introspection allowed outside development mode")
	}
	if r := s.As(s.NewKey(auth.App, "")).Do(q, nil); len(r.Errors) == 0 {
		t.Fatal("APP introspection allowed outside development mode")
	}
	dev := graphtest.NewWith(t, st, graph.Deps{Dev: true})
	dev.As("").Must(q, nil, nil)

	// Errors are counted by code and requests carry an ID.
	s.As("").Fail("UNAUTHENTICATED", `mutation { createUser(input: {handle: "x_y"}) { id } }`, nil)
	req := httptest.NewRequest(http.MethodGet, "/graphql?query=%7B__typename%7D", nil)
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	if id := rec.Header().Get("X-Request-ID"); len(id) != 16 {
		t.Fatalf("X-Request-ID %q", id)
	}
	rec = httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	for _, want := range []string{`limelight_graphql_errors_total{code="UNAUTHENTICATED"}`, "limelight_graphql_request_seconds_bucket",
		"limelight_interactions_ingested_total", "limelight_rate_limited_total"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestRequestLogs: one line per request with its ID, operation and key ID,
// and no secrets or personal data.
func TestRequestLogs(t *testing.T) {
	st := storetest.SQLite(t)
	var buf bytes.Buffer
	s := graphtest.NewWith(t, st, graph.Deps{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	s.Must(`mutation NewFan($h: String!) { createUser(input: {handle: $h, displayName: "Greta Private", country: "SE"}) { id } }`,
		map[string]any{"h": "greta_private"}, nil)
	bad := s.As("")
	bad.Header.Set("Authorization", "Bearer "+auth.Prefix+strings.Repeat("x", 43))
	bad.Do(`{ __typename }`, nil)
	logs := buf.String()
	for _, secret := range []string{s.AdminKey, auth.Prefix + strings.Repeat("x", 43), "greta", "Greta"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"operation=NewFan", "role=ADMIN", "key_id=AK", "status=401", "request_id="} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestForgetUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		ctx := context.Background()
		uid := createUser(t, s, "fan_forget")
		keep := createUser(t, s, "fan_keep")
		sd := newSide(t, s, "a")
		for _, u := range []string{uid, keep} {
			s.Must(`mutation($u: ID!, $i: ID!) { follow(userId: $u, influencerId: $i) { createdAt } }`, map[string]any{"u": u, "i": sd.influencer}, nil)
			s.Must(`mutation($in: [InteractionInput!]!) { recordInteractions(input: $in) { accepted } }`, map[string]any{"in": []map[string]any{
				{"userId": u, "contentId": sd.content, "kind": "VIEW"}, {"userId": u, "contentId": sd.content, "kind": "LIKE"}}}, nil)
		}
		c := st.Client
		tip := c.Tip.Create().SetUserID(pulid.ID(uid)).SetInfluencerID(sd.influencer).SetAmountMinor(500).SetFeeMinor(50).
			SetCurrency("EUR").SetMessage("love, Anna from Berlin").SetIdempotencyKey("tip-1").SetTransactionID(pulid.MustNew("LT")).SaveX(ctx)
		acct := c.LedgerAccount.Create().SetOwnerType(ledgeraccount.OwnerTypeFAN).SetOwnerID(uid).SetBucket("paid").
			SetCurrency("EUR").SetBalanceMinor(-500).SaveX(ctx)
		ev := c.AdEvent.Create().SetCampaignID(sd.campaign).SetAdID(sd.ad).SetUserID(pulid.ID(uid)).SetKind(adevent.KindCLICK).
			SetCostMinor(30).SetOccurredAt(now).SaveX(ctx)

		// Only APP (and ADMIN) keys may forget.
		s.As(sd.influencerKey).Fail("FORBIDDEN", `mutation($u: ID!) { forgetUser(userId: $u) { userId } }`, map[string]any{"u": uid})
		var out struct {
			ForgetUser struct{ InteractionsDeleted, FollowsDeleted int }
		}
		s.As(s.NewKey(auth.App, "")).Must(`mutation($u: ID!) { forgetUser(userId: $u) { interactionsDeleted followsDeleted } }`, map[string]any{"u": uid}, &out)
		if out.ForgetUser.InteractionsDeleted != 2 || out.ForgetUser.FollowsDeleted != 1 {
			t.Fatalf("forgetUser = %+v", out)
		}
		var users, inter, follows, followers int
		st.DB.QueryRow(`SELECT count(*) FROM users WHERE id = $1`, uid).Scan(&users)
		st.DB.QueryRow(`SELECT count(*) FROM interactions WHERE user_id = $1`, uid).Scan(&inter)
		st.DB.QueryRow(`SELECT count(*) FROM follows WHERE user_id = $1`, uid).Scan(&follows)
		st.DB.QueryRow(`SELECT follower_count FROM influencers WHERE id = $1`, string(sd.influencer)).Scan(&followers)
		if users != 0 || inter != 0 || follows != 0 || followers != 1 || count(t, st, "interactions") != 2 {
			t.Fatalf("after forget: users %d interactions %d follows %d followers %d", users, inter, follows, followers)
		}
		// Money stays, unlinked: the tip keeps its amount, the account its
		// balance under an anonymous owner, the ad event its cost.
		tip = c.Tip.GetX(ctx, tip.ID)
		acct = c.LedgerAccount.GetX(ctx, acct.ID)
		ev = c.AdEvent.GetX(ctx, ev.ID)
		if tip.UserID != "" || tip.Message != "" || tip.AmountMinor != 500 {
			t.Fatalf("tip %+v", tip)
		}
		if !strings.HasPrefix(acct.OwnerID, "anon_") || acct.BalanceMinor != -500 {
			t.Fatalf("account %+v", acct)
		}
		if ev.UserID != "" || ev.CostMinor != 30 {
			t.Fatalf("ad event %+v", ev)
		}
		s.Fail("NOT_FOUND", `mutation($u: ID!) { forgetUser(userId: $u) { userId } }`, map[string]any{"u": uid})
	})
}
