package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/graph/graphtest"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/ledger"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return *c.t.Load() }
func (c *clock) set(t time.Time)  { c.t.Store(&t) }
func (c *clock) add(d time.Duration) {
	c.set(c.now().Add(d))
}

func mustLedger(t *testing.T, st *store.Store) {
	t.Helper()
	if err := ledger.Check(context.Background(), st.Client); err != nil {
		t.Fatalf("ledger does not balance: %v", err)
	}
}

func createPartner(t *testing.T, s *graphtest.Server, name string) string {
	t.Helper()
	var out struct{ CreatePartner struct{ ID string } }
	s.Must(`mutation($n: String!) { createPartner(input: {name: $n, currency: "USD"}) { id } }`, map[string]any{"n": name}, &out)
	return out.CreatePartner.ID
}

const sendTipQ = `mutation($u: ID!, $i: ID!, $a: Int!, $c: String!, $m: String, $k: String!) {
  sendTip(userId: $u, influencerId: $i, amountMinor: $a, currency: $c, message: $m, idempotencyKey: $k) { id amountMinor feeMinor currency transactionID } }`

type tipOut struct {
	SendTip struct {
		ID            string
		AmountMinor   int64
		FeeMinor      int64
		TransactionID string
	}
}

func TestSendTipSplitsAndReplays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		vip := createInfluencer(t, s, "vip_creator", "music")
		s.Must(`mutation($id: ID!) { updateInfluencer(id: $id, input: {takeRateBps: 500}) { id } }`, map[string]any{"id": vip}, nil)

		var a, b, c tipOut
		s.Must(sendTipQ, map[string]any{"u": uid, "i": iid, "a": 1000, "c": "USD", "m": "great ramen", "k": "k1"}, &a)
		if a.SendTip.FeeMinor != 100 {
			t.Fatalf("default take: fee %d, want 100", a.SendTip.FeeMinor)
		}
		s.Must(sendTipQ, map[string]any{"u": uid, "i": vip, "a": 999, "c": "USD", "k": "k2"}, &b)
		if b.SendTip.FeeMinor != 49 { // 5% of 999 rounded down
			t.Fatalf("override take: fee %d, want 49", b.SendTip.FeeMinor)
		}
		// Replay: same tip, nothing moves.
		txs := count(t, st, "ledger_transactions")
		s.Must(sendTipQ, map[string]any{"u": uid, "i": iid, "a": 1000, "c": "USD", "m": "great ramen", "k": "k1"}, &c)
		if c.SendTip.ID != a.SendTip.ID || count(t, st, "ledger_transactions") != txs {
			t.Fatalf("replay made a new tip: %s vs %s", c.SendTip.ID, a.SendTip.ID)
		}
		// Same key, other amount: CONFLICT.
		s.Fail("CONFLICT", sendTipQ, map[string]any{"u": uid, "i": iid, "a": 1001, "c": "USD", "m": "great ramen", "k": "k1"})

		var e struct {
			InfluencerEarnings struct {
				ByCurrency []struct {
					Currency                              string
					TipsMinor, AvailableMinor, TotalMinor int64
				}
			}
		}
		s.Must(`query($i: ID!) { influencerEarnings(influencerId: $i) { byCurrency { currency tipsMinor availableMinor totalMinor } } }`,
			map[string]any{"i": iid}, &e)
		if got := e.InfluencerEarnings.ByCurrency; len(got) != 1 || got[0].TipsMinor != 900 || got[0].AvailableMinor != 900 || got[0].TotalMinor != 900 {
			t.Fatalf("earnings = %+v", got)
		}
		mustLedger(t, st)
	})
}

// TestSendTipConcurrentSameKey: 200 concurrent requests with one key post
// exactly one transaction, and every caller gets the same tip.
func TestSendTipConcurrentSameKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		const n = 200
		ids := make([]string, n)
		errs := make([]string, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := s.Do(sendTipQ, map[string]any{"u": uid, "i": iid, "a": 500, "c": "EUR", "k": "once"})
				if len(r.Errors) > 0 {
					errs[i] = fmt.Sprint(r.Errors)
					return
				}
				ids[i] = string(r.Data)
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errs[i] != "" {
				t.Fatalf("request %d failed: %s", i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("request %d got %s, request 0 got %s", i, ids[i], ids[0])
			}
		}
		if got := count(t, st, "ledger_transactions"); got != 1 {
			t.Fatalf("%d ledger transactions, want 1", got)
		}
		if got := count(t, st, "tips"); got != 1 {
			t.Fatalf("%d tips, want 1", got)
		}
		mustLedger(t, st)
	})
}

func TestSendTipBadInputPostsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		self := createUser(t, s, "chef_anna") // the creator's own fan account
		// Use up most of the daily limit (5,000 USD) first.
		for i := range 4 {
			s.Must(sendTipQ, map[string]any{"u": uid, "i": iid, "a": 100_000, "c": "USD", "k": fmt.Sprint("big", i)}, nil)
		}
		s.Must(sendTipQ, map[string]any{"u": uid, "i": iid, "a": 99_950, "c": "USD", "k": "big4"}, nil) // 4,999.50 of the 5,000 daily limit used
		txs := count(t, st, "ledger_transactions")
		tipsBefore := count(t, st, "tips")
		cases := []struct {
			name, code string
			vars       map[string]any
		}{
			{"zero", "BAD_INPUT", map[string]any{"a": 0}},
			{"negative", "BAD_INPUT", map[string]any{"a": -5}},
			{"over per-tip limit", "BAD_INPUT", map[string]any{"a": 100_001}},
			{"over daily limit", "BAD_INPUT", map[string]any{"a": 51}},
			{"unknown currency", "BAD_INPUT", map[string]any{"c": "XYZ"}},
			{"lower-case currency", "BAD_INPUT", map[string]any{"c": "usd"}},
			{"unknown user", "NOT_FOUND", map[string]any{"u": "US01JAAAAAAAAAAAAAAAAAAAAAAA"}},
			{"unknown influencer", "NOT_FOUND", map[string]any{"i": "IN01JAAAAAAAAAAAAAAAAAAAAAAA"}},
			{"tipping oneself", "BAD_INPUT", map[string]any{"u": self}},
			{"message too long", "BAD_INPUT", map[string]any{"m": strings.Repeat("x", 281)}},
			{"empty key", "BAD_INPUT", map[string]any{"k": ""}},
			{"over-long key", "BAD_INPUT", map[string]any{"k": strings.Repeat("k", 129)}},
			{"key reused with other params", "CONFLICT", map[string]any{"k": "big0", "a": 7}},
			{"amount overflows int64", "BAD_INPUT", map[string]any{"a": int64(9223372036854775807)}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				vars := map[string]any{"u": uid, "i": iid, "a": 1, "c": "USD", "k": "bad-" + c.name}
				for k, v := range c.vars {
					vars[k] = v
				}
				s.WithT(t).Fail(c.code, sendTipQ, vars)
				if got := count(t, st, "ledger_transactions"); got != txs {
					t.Fatalf("%d ledger transactions after a rejected tip, want %d", got, txs)
				}
				if got := count(t, st, "tips"); got != tipsBefore {
					t.Fatalf("%d tips after a rejected tip, want %d", got, tipsBefore)
				}
			})
		}
		mustLedger(t, st)
	})
}

// adWorld is a partner with one campaign and ad, a creator with content and a fan.
type adWorld struct {
	s                                    *graphtest.Server
	partner, campaign, ad, fan, inf, con string
}

func newAdWorld(t *testing.T, s *graphtest.Server, pricing string, budget, bid int64, cap int) adWorld {
	t.Helper()
	w := adWorld{s: s}
	w.partner = createPartner(t, s, "Acme")
	w.fan = createUser(t, s, "fan_one")
	w.inf = createInfluencer(t, s, "chef_anna", "cooking")
	w.con = createContent(t, s, w.inf, "Ramen at home", []string{"ramen", "cooking"})
	var c struct{ CreateCampaign struct{ ID string } }
	s.Must(`mutation($p: ID!, $pr: CampaignPricing!, $b: Int!, $bid: Int!, $s: Time!, $e: Time!, $cap: Int) {
	  createCampaign(input: {partnerId: $p, name: "Knives", budgetMinor: $b, pricing: $pr, bidMinor: $bid,
	    startsAt: $s, endsAt: $e, targetTags: ["ramen"], frequencyCap: $cap}) { id } }`,
		map[string]any{"p": w.partner, "pr": pricing, "b": budget, "bid": bid, "s": now.Add(-time.Hour), "e": now.Add(30 * 24 * time.Hour), "cap": cap}, &c)
	w.campaign = c.CreateCampaign.ID
	var a struct{ CreateAd struct{ ID string } }
	s.Must(`mutation($c: ID!) { createAd(input: {campaignId: $c, title: "Sharp knives", targetUrl: "https://acme.example/knives"}) { id } }`,
		map[string]any{"c": w.campaign}, &a)
	w.ad = a.CreateAd.ID
	return w
}

type placement struct {
	ImpressionID, Token, ClickURL string
	CostMinor                     int64
	Ad                            struct{ ID string }
}

func (w adWorld) serve(t *testing.T, slots int) []placement {
	t.Helper()
	var out struct{ ServeAds []placement }
	w.s.Must(`mutation($u: ID!, $n: Int!, $c: [ID!]) { serveAds(userId: $u, slots: $n, contentIds: $c) { impressionId token clickUrl costMinor ad { id } } }`,
		map[string]any{"u": w.fan, "n": slots, "c": []string{w.con}}, &out)
	return out.ServeAds
}

func get(s *graphtest.Server, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// rebind turns ? placeholders into PostgreSQL's $1.
func rebind(st *store.Store, q string) string {
	if st.Dialect != "postgres" {
		return q
	}
	for i := 1; strings.Contains(q, "?"); i++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
	}
	return q
}

func spent(t *testing.T, st *store.Store, campaign string) int64 {
	t.Helper()
	var n int64
	if err := st.DB.QueryRow(rebind(st, "SELECT spent_minor FROM campaigns WHERE id = ?"), campaign).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAdsServeClickAndRedirect(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		w := newAdWorld(t, s, "CPC", 1_000, 40, 2)

		ps := w.serve(t, 1)
		if len(ps) != 1 || ps[0].Ad.ID != w.ad || ps[0].ClickURL != "/r/"+ps[0].Token {
			t.Fatalf("placements = %+v", ps)
		}
		// The redirect records one charged click and sends the user on.
		for range 3 {
			rec := get(s, ps[0].ClickURL)
			if rec.Code != http.StatusFound || rec.Header().Get("Location") != "https://acme.example/knives" {
				t.Fatalf("redirect: %d %q", rec.Code, rec.Header().Get("Location"))
			}
		}
		if got := spent(t, st, w.campaign); got != 40 {
			t.Fatalf("spent %d after repeated clicks on one impression, want 40", got)
		}
		// A tampered token is rejected and counted.
		before := ads.RejectedTokens()
		bad := ps[0].Token[:len(ps[0].Token)-2] + "xx"
		if rec := get(s, "/r/"+bad); rec.Code != http.StatusBadRequest {
			t.Fatalf("tampered token: status %d", rec.Code)
		}
		s.Fail("BAD_INPUT", `mutation($t: String!) { recordAdEvent(token: $t, kind: CLICK, idempotencyKey: "x") { id } }`, map[string]any{"t": "a1.forged.sig"})
		if got := ads.RejectedTokens() - before; got < 2 {
			t.Fatalf("rejected tokens counted %d, want ≥ 2", got)
		}
		// Frequency cap of 2 per day: one more impression, then none.
		if got := len(w.serve(t, 1)); got != 1 {
			t.Fatalf("second serve: %d placements", got)
		}
		if got := len(w.serve(t, 1)); got != 0 {
			t.Fatalf("over the frequency cap: %d placements", got)
		}
		// Conversions: only after a click on the same placement; replays are free.
		conv := `mutation($t: String!, $k: String!, $r: Int) { recordAdEvent(token: $t, kind: CONVERSION, revenueMinor: $r, idempotencyKey: $k) { id costMinor duplicate } }`
		var c1, c2 struct {
			RecordAdEvent struct {
				ID        string
				CostMinor int64
				Duplicate bool
			}
		}
		s.Must(conv, map[string]any{"t": ps[0].Token, "k": "order-1", "r": 5000}, &c1)
		s.Must(conv, map[string]any{"t": ps[0].Token, "k": "order-1", "r": 5000}, &c2)
		if c1.RecordAdEvent.ID != c2.RecordAdEvent.ID || !c2.RecordAdEvent.Duplicate || c1.RecordAdEvent.CostMinor != 0 {
			t.Fatalf("conversion replay: %+v %+v", c1, c2)
		}
		s.Fail("CONFLICT", conv, map[string]any{"t": ps[0].Token, "k": "order-1", "r": 6000})
		s.Fail("BAD_INPUT", `mutation { recordAdEvent(token: "a1.x.y", kind: IMPRESSION, idempotencyKey: "i") { id } }`, nil)
		// The creator got half the click's spend.
		var e struct {
			InfluencerEarnings struct{ ByCurrency []struct{ AdsMinor int64 } }
		}
		s.Must(`query($i: ID!) { influencerEarnings(influencerId: $i) { byCurrency { adsMinor } } }`, map[string]any{"i": w.inf}, &e)
		if b := e.InfluencerEarnings.ByCurrency; len(b) != 1 || b[0].AdsMinor != 20 {
			t.Fatalf("creator ad earnings %+v, want 20", b)
		}
		mustLedger(t, st)
	})
}

// TestBudgetNeverExceeded serves a CPM campaign whose budget covers exactly
// ten impressions from many goroutines at once.
func TestBudgetNeverExceeded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		w := newAdWorld(t, s, "CPM", 100, 10_000, 0) // 10 per impression
		const n = 40
		var wg sync.WaitGroup
		var served atomic.Int64
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.Do(`mutation($u: ID!, $c: [ID!]) { serveAds(userId: $u, slots: 1, contentIds: $c) { impressionId } }`,
					map[string]any{"u": w.fan, "c": []string{w.con}})
				if len(r.Errors) > 0 {
					errs <- fmt.Errorf("%v", r.Errors)
					return
				}
				served.Add(int64(strings.Count(string(r.Data), "impressionId")))
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if served.Load() != 10 || spent(t, st, w.campaign) != 100 || count(t, st, "ad_events") != 10 {
			t.Fatalf("served %d impressions, spent %d, %d events; want 10, 100, 10", served.Load(), spent(t, st, w.campaign), count(t, st, "ad_events"))
		}
		var partner int64
		st.DB.QueryRow(rebind(st, "SELECT balance_minor FROM ledger_accounts WHERE owner_id = ?"), w.partner).Scan(&partner)
		if partner != -100 {
			t.Fatalf("partner spend account %d, want -100", partner)
		}
		mustLedger(t, st)

		// CPC: concurrent clicks on distinct impressions stop at the budget.
		w2 := newAdWorld2(t, s, w, 25, 10)
		toks := w2.serveMany(t, 6)
		var wg2 sync.WaitGroup
		for _, tok := range toks {
			wg2.Add(1)
			go func() { defer wg2.Done(); get(s, "/r/"+tok) }()
		}
		wg2.Wait()
		if got := spent(t, st, w2.campaign); got != 25 {
			t.Fatalf("CPC campaign spent %d, want its budget 25", got)
		}
		mustLedger(t, st)
	})
}

// newAdWorld2 adds an uncapped CPC campaign for the same partner and content.
func newAdWorld2(t *testing.T, s *graphtest.Server, w adWorld, budget, bid int64) adWorld {
	t.Helper()
	var c struct{ CreateCampaign struct{ ID string } }
	s.Must(`mutation($p: ID!, $b: Int!, $bid: Int!, $s: Time!, $e: Time!) {
	  createCampaign(input: {partnerId: $p, name: "Pans", budgetMinor: $b, pricing: CPC, bidMinor: $bid, startsAt: $s, endsAt: $e}) { id } }`,
		map[string]any{"p": w.partner, "b": budget, "bid": bid, "s": now.Add(-time.Hour), "e": now.Add(time.Hour)}, &c)
	w.campaign = c.CreateCampaign.ID
	var a struct{ CreateAd struct{ ID string } }
	s.Must(`mutation($c: ID!) { createAd(input: {campaignId: $c, title: "Pans", targetUrl: "https://acme.example/pans"}) { id } }`,
		map[string]any{"c": w.campaign}, &a)
	w.ad = a.CreateAd.ID
	return w
}

// serveMany serves ads until n placements of w's campaign were made.
func (w adWorld) serveMany(t *testing.T, n int) []string {
	t.Helper()
	var toks []string
	for i := 0; len(toks) < n && i < 10*n; i++ {
		for _, p := range w.serve(t, 2) {
			if p.Ad.ID == w.ad {
				toks = append(toks, p.Token)
			}
		}
	}
	if len(toks) < n {
		t.Fatalf("served %d placements of %s, want %d", len(toks), w.ad, n)
	}
	return toks
}

func TestCommerceConversionsAndReversal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clk := newClock(now)
		s := graphtest.New(t, st, clk.now)
		pid := createPartner(t, s, "Acme")
		uid := createUser(t, s, "fan_one")
		other := createUser(t, s, "fan_two")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		cid := createContent(t, s, iid, "Ramen at home", []string{"ramen"})
		var pr struct{ CreateProduct struct{ ID string } }
		s.Must(`mutation($p: ID!) { createProduct(input: {partnerId: $p, name: "Knife", priceMinor: 5000, currency: "USD", url: "https://acme.example/knife?ref=1"}) { id } }`,
			map[string]any{"p": pid}, &pr)
		s.Must(`mutation($p: ID!, $c: ID!) { createProductLink(input: {productId: $p, contentId: $c, code: "anna-knife", commissionBps: 1000, attributionDays: 7}) { code } }`,
			map[string]any{"p": pr.CreateProduct.ID, "c": cid}, nil)
		s.Fail("CONFLICT", `mutation($p: ID!, $c: ID!) { createProductLink(input: {productId: $p, contentId: $c, code: "anna-knife", commissionBps: 1000}) { code } }`,
			map[string]any{"p": pr.CreateProduct.ID, "c": cid})

		// The click redirect carries the click ID to the partner.
		rec := get(s, "/r/anna-knife?u="+uid)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusFound || err != nil || loc.Host != "acme.example" || loc.Query().Get("ref") != "1" || loc.Query().Get("ll_click") == "" {
			t.Fatalf("link redirect: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := get(s, "/r/no-such-link"); rec.Code != http.StatusNotFound {
			t.Fatalf("unknown link: %d", rec.Code)
		}
		click := loc.Query().Get("ll_click")

		const rc = `mutation($o: String!, $a: Int!, $k: String!, $click: ID, $u: ID, $at: Time) {
		  recordConversion(linkCode: "anna-knife", orderRef: $o, amountMinor: $a, currency: "USD", occurredAt: $at, idempotencyKey: $k, clickId: $click, userId: $u) {
		    id status commissionMinor feeMinor } }`
		type convOut struct {
			RecordConversion struct {
				ID                        string
				Status                    string
				CommissionMinor, FeeMinor int64
			}
		}
		var c1, c1again convOut
		clk.add(time.Hour)
		s.Must(rc, map[string]any{"o": "o-1", "a": 12_345, "k": "conv-1", "click": click}, &c1)
		if c := c1.RecordConversion; c.Status != "PENDING" || c.CommissionMinor != 1234 || c.FeeMinor != 123 {
			t.Fatalf("conversion = %+v", c)
		}
		s.Must(rc, map[string]any{"o": "o-1", "a": 12_345, "k": "conv-1", "click": click}, &c1again)
		if c1again.RecordConversion.ID != c1.RecordConversion.ID {
			t.Fatal("replay recorded a second conversion")
		}
		txs := count(t, st, "ledger_transactions")
		for _, c := range []struct {
			name, code string
			vars       map[string]any
		}{
			{"same key, other amount", "CONFLICT", map[string]any{"o": "o-1", "a": 1, "k": "conv-1", "click": click}},
			{"orderRef reused", "CONFLICT", map[string]any{"o": "o-1", "a": 12_345, "k": "conv-1b", "click": click}},
			{"no click by this user", "BAD_INPUT", map[string]any{"o": "o-2", "a": 100, "k": "conv-2", "u": other}},
			{"click of another user", "BAD_INPUT", map[string]any{"o": "o-2", "a": 100, "k": "conv-2", "click": click, "u": other}},
			{"no attribution given", "BAD_INPUT", map[string]any{"o": "o-2", "a": 100, "k": "conv-2"}},
			{"sale before the click", "BAD_INPUT", map[string]any{"o": "o-2", "a": 100, "k": "conv-2", "u": uid, "at": now.Add(-time.Hour)}},
			{"zero amount", "BAD_INPUT", map[string]any{"o": "o-2", "a": 0, "k": "conv-2", "u": uid}},
			{"in the future", "BAD_INPUT", map[string]any{"o": "o-2", "a": 100, "k": "conv-2", "u": uid, "at": now.Add(48 * time.Hour)}},
		} {
			t.Run(c.name, func(t *testing.T) {
				s.WithT(t).Fail(c.code, rc, c.vars)
				if got := count(t, st, "ledger_transactions"); got != txs {
					t.Fatalf("a rejected conversion posted: %d transactions, want %d", got, txs)
				}
			})
		}
		// Outside the 7-day window.
		clk.add(8 * 24 * time.Hour)
		s.Fail("BAD_INPUT", rc, map[string]any{"o": "o-3", "a": 100, "k": "conv-3", "u": uid})

		earnings := func() (pending, available, commissions int64) {
			var e struct {
				InfluencerEarnings struct {
					ByCurrency []struct{ PendingMinor, AvailableMinor, CommissionsMinor int64 }
				}
			}
			s.Must(`query($i: ID!, $f: Time!) { influencerEarnings(influencerId: $i, from: $f) { byCurrency { pendingMinor availableMinor commissionsMinor } } }`,
				map[string]any{"i": iid, "f": now.Add(-time.Hour)}, &e)
			b := e.InfluencerEarnings.ByCurrency[0]
			return b.PendingMinor, b.AvailableMinor, b.CommissionsMinor
		}
		if p, a, c := earnings(); p != 1111 || a != 0 || c != 1111 {
			t.Fatalf("inside the refund window: pending %d available %d commissions %d", p, a, c)
		}
		// Not payable while pending.
		var run struct{ RunPayouts struct{ Count int } }
		s.Must(`mutation { runPayouts(currency: "USD", minimumMinor: 1, idempotencyKey: "r0") { count } }`, nil, &run)
		if run.RunPayouts.Count != 0 {
			t.Fatal("a pending commission was paid out")
		}
		clk.add(30 * 24 * time.Hour)
		if p, a, _ := earnings(); p != 0 || a != 1111 {
			t.Fatalf("after the refund window: pending %d available %d", p, a)
		}
		// Reversal after it became available claws it back; again with another key is a CONFLICT.
		rev := `mutation($id: ID!, $k: String!) { reverseConversion(id: $id, reason: "refunded", idempotencyKey: $k) { status } }`
		var r1, r2 struct{ ReverseConversion struct{ Status string } }
		s.Must(rev, map[string]any{"id": c1.RecordConversion.ID, "k": "rev-1"}, &r1)
		s.Must(rev, map[string]any{"id": c1.RecordConversion.ID, "k": "rev-1"}, &r2)
		if r1.ReverseConversion.Status != "REVERSED" || r2.ReverseConversion.Status != "REVERSED" {
			t.Fatalf("reverse: %+v %+v", r1, r2)
		}
		s.Fail("CONFLICT", rev, map[string]any{"id": c1.RecordConversion.ID, "k": "rev-2"})
		if p, a, c := earnings(); p != 0 || a != 0 || c != 0 {
			t.Fatalf("after reversal: pending %d available %d commissions %d", p, a, c)
		}
		mustLedger(t, st)
	})
}

func TestPayoutsExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		uid := createUser(t, s, "fan_one")
		a := createInfluencer(t, s, "chef_anna", "cooking")
		b := createInfluencer(t, s, "gamer_bo", "gaming")
		c := createInfluencer(t, s, "small_cy", "music")
		s.Must(sendTipQ, map[string]any{"u": uid, "i": a, "a": 10_000, "c": "USD", "k": "t1"}, nil) // 9,000 to a
		s.Must(sendTipQ, map[string]any{"u": uid, "i": b, "a": 5_000, "c": "USD", "k": "t2"}, nil)  // 4,500 to b
		s.Must(sendTipQ, map[string]any{"u": uid, "i": c, "a": 100, "c": "USD", "k": "t3"}, nil)    // 90 to c: below minimum
		s.Must(sendTipQ, map[string]any{"u": uid, "i": a, "a": 10_000, "c": "EUR", "k": "t4"}, nil) // another currency

		const runQ = `mutation($m: Int!, $k: String!) { runPayouts(currency: "USD", minimumMinor: $m, idempotencyKey: $k) {
		  id count totalMinor payouts { id influencerID amountMinor status } } }`
		type runOut struct {
			RunPayouts struct {
				ID         string
				Count      int
				TotalMinor int64
				Payouts    []struct {
					ID, InfluencerID, Status string
					AmountMinor              int64
				}
			}
		}
		var r1, r2, r3 runOut
		s.Must(runQ, map[string]any{"m": 1000, "k": "2026-11"}, &r1)
		if r1.RunPayouts.Count != 2 || r1.RunPayouts.TotalMinor != 13_500 {
			t.Fatalf("run = %+v", r1.RunPayouts)
		}
		txs := count(t, st, "ledger_transactions")
		s.Must(runQ, map[string]any{"m": 1000, "k": "2026-11"}, &r2)
		if r2.RunPayouts.Count != 2 || count(t, st, "ledger_transactions") != txs || count(t, st, "payouts") != 2 {
			t.Fatalf("repeated run paid again: %+v", r2.RunPayouts)
		}
		s.Fail("CONFLICT", runQ, map[string]any{"m": 50, "k": "2026-11"})
		// A new run finds nothing new to pay.
		s.Must(runQ, map[string]any{"m": 1000, "k": "2026-11-b"}, &r3)
		if r3.RunPayouts.Count != 0 || count(t, st, "payouts") != 2 {
			t.Fatalf("second run paid %d", r3.RunPayouts.Count)
		}
		// Concurrent runs with different keys never pay the same money twice.
		s.Must(sendTipQ, map[string]any{"u": uid, "i": c, "a": 2_000, "c": "USD", "k": "t5"}, nil)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); s.Do(runQ, map[string]any{"m": 1000, "k": fmt.Sprint("race-", i)}) }()
		}
		wg.Wait()
		if got := count(t, st, "payouts"); got != 3 {
			t.Fatalf("%d payouts after concurrent runs, want 3", got)
		}

		var pa, pb string
		for _, p := range r1.RunPayouts.Payouts {
			if p.InfluencerID == a {
				pa = p.ID
			} else {
				pb = p.ID
			}
		}
		const paid = `mutation($id: ID!, $ref: String!) { markPayoutPaid(id: $id, externalRef: $ref) { status externalRef } }`
		const failed = `mutation($id: ID!, $r: String!) { markPayoutFailed(id: $id, reason: $r) { status } }`
		s.Must(paid, map[string]any{"id": pa, "ref": "bank-1"}, nil)
		s.Must(paid, map[string]any{"id": pa, "ref": "bank-1"}, nil) // idempotent
		s.Fail("CONFLICT", paid, map[string]any{"id": pa, "ref": "bank-2"})
		s.Fail("CONFLICT", failed, map[string]any{"id": pa, "r": "bounced"})
		s.Must(failed, map[string]any{"id": pb, "r": "account closed"}, nil)
		s.Fail("CONFLICT", paid, map[string]any{"id": pb, "ref": "bank-3"})
		s.Fail("NOT_FOUND", paid, map[string]any{"id": "PO01JAAAAAAAAAAAAAAAAAAAAAAA", "ref": "x"})
		s.Fail("BAD_INPUT", paid, map[string]any{"id": pa, "ref": ""})

		var e struct {
			InfluencerEarnings struct {
				ByCurrency []struct {
					Currency                                    string
					AvailableMinor, InPayoutMinor, PaidOutMinor int64
				}
			}
		}
		s.Must(`query($i: ID!) { influencerEarnings(influencerId: $i) { byCurrency { currency availableMinor inPayoutMinor paidOutMinor } } }`, map[string]any{"i": a}, &e)
		if got := e.InfluencerEarnings.ByCurrency; len(got) != 2 || got[1].Currency != "USD" || got[1].PaidOutMinor != 9000 || got[1].InPayoutMinor != 0 || got[1].AvailableMinor != 0 {
			t.Fatalf("paid creator's earnings: %+v", got)
		}
		s.Must(`query($i: ID!) { influencerEarnings(influencerId: $i) { byCurrency { currency availableMinor inPayoutMinor paidOutMinor } } }`, map[string]any{"i": b}, &e)
		if got := e.InfluencerEarnings.ByCurrency; len(got) != 1 || got[0].AvailableMinor != 4500 || got[0].InPayoutMinor != 0 {
			t.Fatalf("failed payout's creator: %+v", got)
		}
		s.Fail("BAD_INPUT", runQ, map[string]any{"m": -1, "k": "neg"})
		s.Fail("BAD_INPUT", `mutation { runPayouts(currency: "ZZZ", minimumMinor: 1, idempotencyKey: "z") { id } }`, nil)
		mustLedger(t, st)
	})
}

func TestRevenueForecastAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		var f struct {
			RevenueForecast struct {
				Currency     string
				Forecast     []struct{ RevenueMinor int64 }
				Coefficients []struct {
					Name  string
					Value float64
				}
				HistoryDays int
			}
		}
		s.Must(`query($i: ID!) { revenueForecast(influencerId: $i, days: 7) { currency forecast { revenueMinor } coefficients { name value } historyDays rmse r2 intercept totalMinor } }`,
			map[string]any{"i": iid}, &f)
		if f.RevenueForecast.Currency != "USD" || len(f.RevenueForecast.Forecast) != 7 || len(f.RevenueForecast.Coefficients) != 4 || f.RevenueForecast.HistoryDays != 90 {
			t.Fatalf("forecast = %+v", f.RevenueForecast)
		}
		s.Fail("BAD_INPUT", `query($i: ID!) { revenueForecast(influencerId: $i, days: 0) { totalMinor } }`, map[string]any{"i": iid})
		s.Fail("BAD_INPUT", `query($i: ID!) { revenueForecast(influencerId: $i, days: 400) { totalMinor } }`, map[string]any{"i": iid})
		s.Fail("NOT_FOUND", `{ revenueForecast(influencerId: "IN01JAAAAAAAAAAAAAAAAAAAAAAA", days: 3) { totalMinor } }`, nil)
	})
}

func TestMoneyBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		pid := createPartner(t, s, "Acme")
		iid := createInfluencer(t, s, "chef_anna", "cooking")
		cases := []struct{ name, code, query string }{
			{"partner bad currency", "BAD_INPUT", `mutation { createPartner(input: {name: "X", currency: "EURO"}) { id } }`},
			{"product bad url", "BAD_INPUT", `mutation($p: ID!) { createProduct(input: {partnerId: $p, name: "X", priceMinor: 1, currency: "USD", url: "javascript:alert(1)"}) { id } }`},
			{"product unknown partner", "NOT_FOUND", `mutation { createProduct(input: {partnerId: "PA01JAAAAAAAAAAAAAAAAAAAAAAA", name: "X", priceMinor: 1, currency: "USD", url: "https://x.example"}) { id } }`},
			{"campaign zero budget", "BAD_INPUT", `mutation($p: ID!) { createCampaign(input: {partnerId: $p, name: "C", budgetMinor: 0, pricing: CPC, bidMinor: 1, startsAt: "2026-11-01T00:00:00Z", endsAt: "2026-12-01T00:00:00Z"}) { id } }`},
			{"campaign reversed schedule", "BAD_INPUT", `mutation($p: ID!) { createCampaign(input: {partnerId: $p, name: "C", budgetMinor: 10, pricing: CPC, bidMinor: 1, startsAt: "2026-12-01T00:00:00Z", endsAt: "2026-11-01T00:00:00Z"}) { id } }`},
			{"campaign unknown target creator", "NOT_FOUND", `mutation($p: ID!) { createCampaign(input: {partnerId: $p, name: "C", budgetMinor: 10, pricing: CPC, bidMinor: 1, startsAt: "2026-11-01T00:00:00Z", endsAt: "2026-12-01T00:00:00Z", targetInfluencers: ["IN01JAAAAAAAAAAAAAAAAAAAAAAA"]}) { id } }`},
			{"ad unknown campaign", "NOT_FOUND", `mutation { createAd(input: {campaignId: "CA01JAAAAAAAAAAAAAAAAAAAAAAA", title: "x", targetUrl: "https://x.example"}) { id } }`},
			{"link unknown product", "NOT_FOUND", `mutation { createProductLink(input: {productId: "PR01JAAAAAAAAAAAAAAAAAAAAAAA", contentId: "CO01JAAAAAAAAAAAAAAAAAAAAAAA", commissionBps: 100}) { id } }`},
			{"conversion unknown link", "NOT_FOUND", `mutation { recordConversion(linkCode: "nope", orderRef: "o", amountMinor: 1, currency: "USD", idempotencyKey: "k") { id } }`},
			{"reverse unknown conversion", "NOT_FOUND", `mutation { reverseConversion(id: "CV01JAAAAAAAAAAAAAAAAAAAAAAA", idempotencyKey: "k") { id } }`},
			{"earnings unknown creator", "NOT_FOUND", `{ influencerEarnings(influencerId: "IN01JAAAAAAAAAAAAAAAAAAAAAAA") { from } }`},
			{"earnings reversed window", "BAD_INPUT", `query($i: ID!) { influencerEarnings(influencerId: $i, from: "2026-11-10T00:00:00Z", to: "2026-11-01T00:00:00Z") { from } }`},
			{"serve too many slots", "BAD_INPUT", `mutation { serveAds(userId: "US01JAAAAAAAAAAAAAAAAAAAAAAA", slots: 101) { token } }`},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s.WithT(t).Fail(c.code, c.query, map[string]any{"p": pid, "i": iid})
			})
		}
		if n := count(t, st, "ledger_transactions") + count(t, st, "campaigns") + count(t, st, "products"); n != 0 {
			t.Fatalf("bad input stored %d rows", n)
		}
	})
}

// TestMoneyAccess: partners act only on their own campaigns and links,
// creators read only their own earnings, tips need an app key.
func TestMoneyAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		w := newAdWorld(t, s, "CPC", 1_000, 40, 0)
		other := createPartner(t, s, "Globex")
		rival := createInfluencer(t, s, "gamer_bo", "gaming")
		var pr struct{ CreateProduct struct{ ID string } }
		s.Must(`mutation($p: ID!) { createProduct(input: {partnerId: $p, name: "Knife", priceMinor: 5000, currency: "USD", url: "https://acme.example/k"}) { id } }`,
			map[string]any{"p": w.partner}, &pr)
		s.Must(`mutation($p: ID!, $c: ID!) { createProductLink(input: {productId: $p, contentId: $c, code: "acme-knife", commissionBps: 500}) { code } }`,
			map[string]any{"p": pr.CreateProduct.ID, "c": w.con}, nil)

		globex := s.As(s.NewKey("PARTNER", other))
		acme := s.As(s.NewKey("PARTNER", w.partner))
		anna := s.As(s.NewKey("INFLUENCER", w.inf))
		app := s.As(s.NewKey("APP", ""))
		anon := s.As("")

		campaignQ := `mutation($p: ID!) { createCampaign(input: {partnerId: $p, name: "C", budgetMinor: 10, pricing: CPC, bidMinor: 1, startsAt: "2026-11-01T00:00:00Z", endsAt: "2026-12-01T00:00:00Z"}) { id } }`
		globex.Fail("FORBIDDEN", campaignQ, map[string]any{"p": w.partner})
		acme.Must(campaignQ, map[string]any{"p": w.partner}, nil)
		globex.Fail("FORBIDDEN", `mutation($c: ID!) { createAd(input: {campaignId: $c, title: "x", targetUrl: "https://x.example"}) { id } }`, map[string]any{"c": w.campaign})
		globex.Fail("FORBIDDEN", `mutation { recordConversion(linkCode: "acme-knife", orderRef: "o", amountMinor: 1, currency: "USD", idempotencyKey: "k", userId: "US01JAAAAAAAAAAAAAAAAAAAAAAA") { id } }`, nil)
		globex.Fail("FORBIDDEN", `mutation { runPayouts(currency: "USD", minimumMinor: 1, idempotencyKey: "k") { id } }`, nil)
		earnQ := `query($i: ID!) { influencerEarnings(influencerId: $i) { from } }`
		anna.Must(earnQ, map[string]any{"i": w.inf}, nil)
		anna.Fail("FORBIDDEN", earnQ, map[string]any{"i": rival})
		anna.Fail("FORBIDDEN", `query($i: ID!) { revenueForecast(influencerId: $i, days: 3) { totalMinor } }`, map[string]any{"i": rival})
		anon.Fail("UNAUTHENTICATED", sendTipQ, map[string]any{"u": w.fan, "i": w.inf, "a": 100, "c": "USD", "k": "a"})
		acme.Fail("FORBIDDEN", sendTipQ, map[string]any{"u": w.fan, "i": w.inf, "a": 100, "c": "USD", "k": "a"})
		app.Must(sendTipQ, map[string]any{"u": w.fan, "i": w.inf, "a": 100, "c": "USD", "k": "a"}, nil)
		if n := count(t, st, "tips"); n != 1 {
			t.Fatalf("%d tips, want 1", n)
		}
	})
}

// TestCPAChargesConversionsWithinBudget: a CPA campaign pays nothing for
// impressions and clicks, the bid per conversion, and never past its budget.
func TestCPAChargesConversionsWithinBudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := newServer(t, st)
		w := newAdWorld(t, s, "CPA", 500, 300, 0)
		const ev = `mutation($t: String!, $kind: AdEventKind!, $k: String!, $r: Int) {
		  recordAdEvent(token: $t, kind: $kind, revenueMinor: $r, idempotencyKey: $k) { kind costMinor duplicate } }`
		type evOut struct {
			RecordAdEvent struct {
				Kind      string
				CostMinor int64
				Duplicate bool
			}
		}
		var costs []int64
		for i := range 2 {
			ps := w.serve(t, 1)
			if len(ps) != 1 || ps[0].CostMinor != 0 {
				t.Fatalf("serve %d: %+v", i, ps)
			}
			// A conversion before any click is not attributed.
			s.Fail("BAD_INPUT", ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": fmt.Sprint("early", i), "r": 100})
			var click, again, conv evOut
			s.Must(ev, map[string]any{"t": ps[0].Token, "kind": "CLICK", "k": fmt.Sprint("c", i)}, &click)
			s.Must(ev, map[string]any{"t": ps[0].Token, "kind": "CLICK", "k": fmt.Sprint("c", i)}, &again)
			if click.RecordAdEvent.Duplicate || !again.RecordAdEvent.Duplicate || click.RecordAdEvent.CostMinor != 0 {
				t.Fatalf("clicks: %+v %+v", click, again)
			}
			s.Must(ev, map[string]any{"t": ps[0].Token, "kind": "CONVERSION", "k": fmt.Sprint("o", i), "r": 2500}, &conv)
			costs = append(costs, conv.RecordAdEvent.CostMinor)
		}
		if costs[0] != 300 || costs[1] != 200 || spent(t, st, w.campaign) != 500 {
			t.Fatalf("conversion costs %v, spent %d; want [300 200] and 500", costs, spent(t, st, w.campaign))
		}
		if got := len(w.serve(t, 1)); got != 0 {
			t.Fatalf("an exhausted campaign served %d ads", got)
		}
		mustLedger(t, st)
	})
}
