package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/apikey"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/ads"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/metrics"
	"github.com/limelight-hq/limelight/internal/stats"
)

// authDirective implements @auth(roles, owner): see access.graphqls.
func (r *Resolver) authDirective(ctx context.Context, _ any, next graphql.Resolver, roles []apikey.Role, owner *string) (any, error) {
	p := auth.FromContext(ctx)
	if p == nil {
		return nil, apperr.Errorf(apperr.Unauthorized, "this field needs an API key (Authorization: Bearer <key>)")
	}
	if p.Role == auth.Admin {
		return next(ctx)
	}
	allowed := false
	for _, role := range roles {
		allowed = allowed || role == p.Role
	}
	if !allowed {
		return nil, apperr.Errorf(apperr.Forbidden, "%s keys may not do this", p.Role)
	}
	if owner == nil || (p.Role != auth.Partner && p.Role != auth.Influencer) {
		return next(ctx)
	}
	ref, ok := ownerArg(ctx, *owner)
	if !ok {
		return nil, apperr.Errorf(apperr.Forbidden, "%s is required to check ownership", *owner)
	}
	o, err := auth.OwnersOf(ctx, r.client, ref)
	if err != nil {
		return nil, err
	}
	if !o.Allows(p) {
		return nil, apperr.Errorf(apperr.Forbidden, "this key does not own %s", ref)
	}
	return next(ctx)
}

// ownerArg reads the argument at a dotted path (e.g. "input.influencerID")
// from the field's raw arguments, as the caller sent them.
func ownerArg(ctx context.Context, path string) (string, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return "", false
	}
	var vars map[string]any
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		vars = oc.Variables
	}
	var cur any = fc.Field.ArgumentMap(vars)
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = m[part]
	}
	switch v := cur.(type) {
	case string:
		return v, v != ""
	case fmt.Stringer:
		return v.String(), v.String() != ""
	}
	return "", false
}

// privateFields hide fans' personal data and creators' business terms from
// callers that are neither ADMIN nor APP: they resolve to null.
var privateFields = map[string]map[string]bool{
	"User":       {"country": true, "ageBracket": true},
	"Influencer": {"takeRateBps": true},
}

// privateFilters are, per where-input type, the filter keys (prefixes) that
// would let a caller infer hidden fields; a type mapped to nil may not be
// filtered on at all by untrusted callers (other partners' campaigns, money).
var privateFilters = map[string][]string{
	"User":       {"country", "ageBracket"},
	"Influencer": {"takeRateBps"},
	"Campaign":   nil, "Payout": nil, "PayoutRun": nil, "Conversion": nil, "Tip": nil,
}

// edgeFilters maps a where-input's edge predicates to the type they filter.
var edgeFilters = map[string]string{
	"hasFollowersWith": "User", "hasFollowingWith": "Influencer", "hasFollowsWith": "Follow",
	"hasInfluencerWith": "Influencer", "hasContentWith": "Content", "hasContentsWith": "Content",
	"hasCampaignWith": "Campaign", "hasCampaignsWith": "Campaign", "hasAdsWith": "Ad",
	"hasPartnerWith": "Partner", "hasProductWith": "Product", "hasProductsWith": "Product",
	"hasLinksWith": "ProductLink", "hasProductLinksWith": "ProductLink",
	"hasPayoutsWith": "Payout", "hasRunWith": "PayoutRun",
}

// filtersPrivate reports whether a raw where-input of type typ, or any
// where-input nested in it through edge predicates, filters on private data.
func filtersPrivate(v any, typ string) bool {
	switch t := v.(type) {
	case map[string]any:
		keys, private := privateFilters[typ]
		if private && keys == nil && len(t) > 0 {
			return true
		}
		for k, x := range t {
			for _, pre := range keys {
				if strings.HasPrefix(k, pre) {
					return true
				}
			}
			next := typ
			if et, ok := edgeFilters[k]; ok {
				next = et
			} else if strings.HasPrefix(k, "has") && strings.HasSuffix(k, "With") {
				return true // an edge this guard does not know: refuse rather than leak
			}
			if filtersPrivate(x, next) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if filtersPrivate(x, typ) {
				return true
			}
		}
	}
	return false
}

// guardResults is a field middleware: it keeps mutations without @auth to
// ADMIN keys (deny by default), hides private fields, refuses
// where-filters on personal data, and checks every entity a field returns
// (whatever the path to it: node, nodes, edges, connections) against the
// caller: campaigns for their partner (and APP keys, which place sponsored
// content), conversions for partner and creator, tips and payouts for the
// creator (tips also for APP), experiments for APP, API keys for
// themselves; admins see all. Public entities (users, creators, content,
// follows, partners, products, links, ad creatives) pass.
func (r *Resolver) guardResults(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	p := auth.FromContext(ctx)
	if fc != nil && fc.Object == "Mutation" && fc.Field.Definition != nil && fc.Field.Definition.Directives.ForName("auth") == nil {
		// Deny by default: a mutation nobody gave an @auth is for admins.
		if p == nil {
			return nil, apperr.Errorf(apperr.Unauthorized, "this field needs an API key (Authorization: Bearer <key>)")
		}
		if p.Role != auth.Admin {
			return nil, apperr.Errorf(apperr.Forbidden, "only ADMIN keys may do this")
		}
	}
	trusted := p != nil && (p.Role == auth.Admin || p.Role == auth.App)
	if fc != nil && !trusted {
		if f := privateFields[fc.Object]; f != nil && f[fc.Field.Name] {
			if !(fc.Object == "Influencer" && p != nil && p.Role == auth.Influencer && parentOwnedBy(fc, p)) {
				return nil, nil
			}
		}
		if w, ok := fc.Args["where"]; ok && w != nil && fc.Field.Definition != nil {
			typ := strings.TrimSuffix(fc.Field.Definition.Type.Name(), "Connection")
			if raw := fc.Field.ArgumentMap(opVars(ctx))["where"]; filtersPrivate(raw, typ) {
				return nil, apperr.Errorf(apperr.Forbidden, "filtering on personal or private data needs an ADMIN or APP key")
			}
		}
	}
	res, err := next(ctx)
	if err != nil || res == nil || (p != nil && p.Role == auth.Admin) {
		return res, err
	}
	if err := r.checkVisible(ctx, p, res); err != nil {
		return nil, err
	}
	return res, nil
}

func opVars(ctx context.Context) map[string]any {
	if oc := graphql.GetOperationContext(ctx); oc != nil {
		return oc.Variables
	}
	return nil
}

func parentOwnedBy(fc *graphql.FieldContext, p *auth.Principal) bool {
	if fc.Parent == nil {
		return false
	}
	inf, ok := fc.Parent.Result.(*ent.Influencer)
	return ok && p.Owns(inf.ID)
}

func (r *Resolver) checkVisible(ctx context.Context, p *auth.Principal, res any) error {
	switch v := res.(type) {
	case []ent.Noder:
		for _, n := range v {
			if n != nil {
				if err := r.checkVisible(ctx, p, n); err != nil {
					return err
				}
			}
		}
		return nil
	case []*ent.Campaign:
		for _, x := range v {
			if err := r.checkVisible(ctx, p, x); err != nil {
				return err
			}
		}
		return nil
	case []*ent.Conversion:
		for _, x := range v {
			if err := r.checkVisible(ctx, p, x); err != nil {
				return err
			}
		}
		return nil
	case []*ent.Tip:
		for _, x := range v {
			if err := r.checkVisible(ctx, p, x); err != nil {
				return err
			}
		}
		return nil
	case []*ent.Payout:
		for _, x := range v {
			if err := r.checkVisible(ctx, p, x); err != nil {
				return err
			}
		}
		return nil
	}
	// Owners are looked up by ID: entgql's field collection may have left
	// the owner columns unloaded.
	var id string
	app := p != nil && p.Role == auth.App
	switch v := res.(type) {
	case *ent.Campaign:
		if app {
			return nil // the platform's own frontend places sponsored content
		}
		id = string(v.ID)
	case *ent.Conversion:
		id = string(v.ID)
	case *ent.Payout:
		id = string(v.ID)
	case *ent.PayoutRun:
		if p == nil {
			return apperr.Errorf(apperr.Unauthorized, "this needs an API key (Authorization: Bearer <key>)")
		}
		return apperr.Errorf(apperr.Forbidden, "payout runs are for ADMIN keys")
	case *ent.Tip:
		if app {
			return nil
		}
		id = string(v.ID)
	case *ent.APIKey:
		if p != nil && p.KeyID == v.ID {
			return nil
		}
	case *ent.Experiment:
		if app {
			return nil // feeds say which experiment chose their ranker
		}
	default:
		return nil
	}
	var o auth.Owners
	if id != "" {
		var err error
		if o, err = auth.OwnersOf(ctx, r.client, id); err != nil {
			return err
		}
	}
	if !o.Allows(p) {
		if p == nil {
			return apperr.Errorf(apperr.Unauthorized, "this needs an API key (Authorization: Bearer <key>)")
		}
		return apperr.Errorf(apperr.Forbidden, "this key may not see that")
	}
	return nil
}

// introspectionGate allows __schema and __type for ADMIN keys, and for
// everyone in development mode.
type introspectionGate struct{ dev bool }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = introspectionGate{}

func (introspectionGate) ExtensionName() string                   { return "AdminIntrospection" }
func (introspectionGate) Validate(graphql.ExecutableSchema) error { return nil }
func (i introspectionGate) MutateOperationContext(ctx context.Context, rc *graphql.OperationContext) *gqlerror.Error {
	p := auth.FromContext(ctx)
	rc.DisableIntrospection = !(i.dev || (p != nil && p.Role == auth.Admin))
	return nil
}

// observe records each operation's latency and error codes in metrics and
// names the operation for the request log.
type observe struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observe{}

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }
func (observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	name := ""
	if graphql.HasOperationContext(ctx) {
		oc := graphql.GetOperationContext(ctx)
		name = oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name
		}
	}
	if info := requestInfoFrom(ctx); info != nil {
		info.operation = name
	}
	metrics.ObserveRequest(name, time.Since(start))
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = string(apperr.Internal)
			}
			metrics.CountError(code)
		}
	}
	return resp
}

// requestInfo is what the request log learns while the request runs.
type requestInfo struct {
	id        string
	operation string
	keyID     string
	role      string
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	return ri
}

// RequestID returns the ID of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	if ri := requestInfoFrom(ctx); ri != nil {
		return ri.id
	}
	return ""
}

// requestIDHandler adds request_id to every record logged with a request's context.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}
func (h requestIDHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(a)}
}
func (h requestIDHandler) WithGroup(n string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(n)}
}

// statusWriter remembers the status code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// requestLog gives each request an ID (X-Request-ID, echoed back; a
// well-formed one from the client is kept) and logs one line when it ends:
// method, path, status, duration, operation name and the key's ID and
// role. Never the query's variables, the key's secret or client addresses.
func (r *Resolver) requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			b := make([]byte, 8)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		info := &requestInfo{id: id}
		w.Header().Set("X-Request-ID", id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		ctx := context.WithValue(req.Context(), requestInfoKey{}, info)
		next.ServeHTTP(sw, req.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		r.log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", req.Method), slog.String("path", req.URL.Path),
			slog.Int("status", sw.status), slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("operation", info.operation), slog.String("key_id", info.keyID), slog.String("role", info.role))
	})
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// authenticate turns Authorization: Bearer <key> into a Principal in the
// context and applies the caller's rate limit (per key; per client address
// for requests without a valid key). A present but malformed, unknown or
// revoked key is refused with 401 UNAUTHENTICATED; no header means an
// anonymous caller who sees only what is public.
func (r *Resolver) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var p *auth.Principal
		var authErr error
		if h := req.Header.Get("Authorization"); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				authErr = apperr.Errorf(apperr.Unauthorized, "Authorization must be \"Bearer <key>\"")
			} else {
				p, authErr = auth.Authenticate(req.Context(), r.client, strings.TrimSpace(secret))
			}
		}
		bucket := "addr:" + clientAddr(req)
		if p != nil {
			bucket = "key:" + string(p.KeyID)
			if info := requestInfoFrom(req.Context()); info != nil {
				info.keyID, info.role = string(p.KeyID), string(p.Role)
			}
		}
		if ok, wait := r.limiter.Allow(bucket, time.Now()); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			secs = max(secs, 1)
			metrics.CountRateLimited()
			metrics.CountError(string(apperr.RateLimited))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeErrorExt(w, http.StatusTooManyRequests, apperr.RateLimited,
				fmt.Sprintf("rate limit exceeded; retry in %d s", secs), map[string]any{"retryAfterSeconds": secs})
			return
		}
		if authErr != nil {
			code := apperr.CodeOf(authErr)
			if code != apperr.Unauthorized {
				r.log.ErrorContext(req.Context(), "authenticate", "err", authErr)
				metrics.CountError(string(apperr.Internal))
				writeError(w, http.StatusInternalServerError, apperr.Internal, "internal error")
				return
			}
			metrics.CountError(string(code))
			w.Header().Set("WWW-Authenticate", `Bearer realm="limelight"`)
			writeError(w, http.StatusUnauthorized, code, apperr.MessageOf(authErr))
			return
		}
		next.ServeHTTP(w, req.WithContext(auth.WithPrincipal(req.Context(), p)))
	})
}

// clientAddr is the peer's IP, the bucket for callers without a key. Behind
// a proxy every anonymous caller shares the proxy's bucket; keys do not.
func clientAddr(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

func toAdMetrics(c stats.Counts) *AdMetrics {
	return &AdMetrics{
		Impressions: int(c.Impressions), Clicks: int(c.Clicks), Conversions: int(c.Conversions),
		SpendMinor: int(c.SpendMinor), RevenueMinor: int(c.RevenueMinor),
		Ctr: c.CTR(), Cvr: c.CVR(), CpmMinor: c.CPM(), CpcMinor: c.CPC(), CpaMinor: c.CPA(), Roas: c.ROAS(),
	}
}

func toCampaignStats(rep *stats.Report) *CampaignStats {
	out := &CampaignStats{Campaign: rep.Campaign, Currency: rep.Campaign.Currency, From: rep.From, To: rep.To,
		GroupBy: []CampaignStatsDimension{}, Total: toAdMetrics(rep.Total), Groups: []*CampaignStatsGroup{}}
	set := map[stats.Dimension]bool{}
	for _, d := range rep.GroupBy {
		set[d] = true
		out.GroupBy = append(out.GroupBy, CampaignStatsDimension(d))
	}
	idp := func(on bool, id pulid.ID) *pulid.ID {
		if !on || id == "" {
			return nil
		}
		return &id
	}
	for _, g := range rep.Groups {
		out.Groups = append(out.Groups, &CampaignStatsGroup{Day: g.Day, AdID: idp(set[stats.ByAd], g.AdID),
			InfluencerID: idp(set[stats.ByInfluencer], g.InfluencerID), ContentID: idp(set[stats.ByContent], g.ContentID),
			Metrics: toAdMetrics(g.Counts)})
	}
	return out
}

func (r *Resolver) toAudience(ctx context.Context, a *stats.Audience) (*Audience, error) {
	inf, err := r.client.Influencer.Get(ctx, a.InfluencerID)
	if err != nil {
		return nil, err
	}
	groups := func(bs []stats.Bucket) []*AudienceGroup {
		out := []*AudienceGroup{}
		for _, b := range bs {
			out = append(out, &AudienceGroup{Key: b.Key, Count: b.Count})
		}
		return out
	}
	return &Audience{Influencer: inf, Followers: a.Followers, MinGroupSize: a.MinGroup,
		Countries: groups(a.Countries), AgeBrackets: groups(a.AgeBrackets)}, nil
}

// adminOnly refuses what only ADMIN keys may do (what is about, for the message).
func adminOnly(ctx context.Context, what string) error {
	if p := auth.FromContext(ctx); p == nil || p.Role != auth.Admin {
		return apperr.Errorf(apperr.Forbidden, "%s needs an ADMIN key", what)
	}
	return nil
}

// mayReportConversion lets only ADMIN keys and the campaign's own partner
// report a sale on an ad: anyone else could spend another partner's budget.
func (r *Resolver) mayReportConversion(ctx context.Context, token string) error {
	p := auth.FromContext(ctx)
	if p != nil && p.Role == auth.Admin {
		return nil
	}
	c, err := ads.CampaignOfToken(ctx, r.client, token)
	if err != nil {
		return err
	}
	if p == nil || p.Role != auth.Partner || !p.Owns(c.PartnerID) {
		return apperr.Errorf(apperr.Forbidden, "only the campaign's partner may report its conversions")
	}
	return nil
}
