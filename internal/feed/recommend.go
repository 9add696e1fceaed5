package feed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/follow"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/metrics"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Surface is where a feed is shown; it narrows the candidates.
type Surface string

// The surfaces.
const (
	// Home ranks the whole catalogue.
	Home Surface = "HOME"
	// Following ranks only content of creators the user follows.
	Following Surface = "FOLLOWING"
	// Explore ranks only content of creators the user does not follow.
	Explore Surface = "EXPLORE"
)

// Request asks for one page of a user's feed.
type Request struct {
	UserID pulid.ID
	// First is the page size, 1..100.
	First int
	// After is the cursor of the last item of the previous page, or "".
	After string
	// Ranker names the ranker; "" means the default.
	Ranker string
	// Surface narrows the candidates; "" means Home.
	Surface Surface
	// IncludeConsumed allows content the user already consumed.
	IncludeConsumed bool
	// Now is the request time.
	Now time.Time
}

// Item is one ranked piece of content.
type Item struct {
	ContentID pulid.ID
	Content   *ent.Content
	Score     float64
	Ranker    string
	Reason    string
	Cursor    string
}

// Page is one page of a feed.
type Page struct {
	Items []Item
	// HasNext says whether a next page exists.
	HasNext bool
	// Total is how many items the feed can page through (at most MaxDepth).
	Total int
	// Ranker is who ranked this page; Fallback says whether it was the
	// fallback standing in for the ranker asked.
	Ranker   string
	Fallback bool
	// Reason says why the fallback answered, if it did.
	Reason string

	// recent is the user's recent content with summed kind weights (see Interests).
	recent map[pulid.ID]float64
}

// Recommend returns a page of the user's feed. Pages are stable: a cursor
// pins the model and the moment of the first page, so following pages
// continue the same ranking with no duplicates.
func (s *Service) Recommend(ctx context.Context, req Request) (*Page, error) {
	if req.First < 0 || req.First > 100 {
		return nil, apperr.Errorf(apperr.BadInput, "first must be between 0 and 100")
	}
	name := req.Ranker
	if name == "" {
		name = s.cfg.Default
	}
	if !s.known(name) {
		return nil, apperr.Errorf(apperr.NotFound, "no ranker named %q", name)
	}
	if ok, err := s.client.User.Query().Where(user.ID(req.UserID)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "user %s not found", req.UserID)
	}
	s.mu.RLock()
	m := s.mapping
	mod := s.models[name]
	s.mu.RUnlock()
	version := ""
	numItems := 0
	if mod != nil {
		version, numItems = mod.version, mod.numItems
	}
	surface := string(req.Surface)
	if surface == string(Home) {
		surface = ""
	}
	cur := cursor{Ranker: name, Version: version, AsOf: req.Now.UnixMilli(), User: string(req.UserID),
		Surface: surface, Consumed: req.IncludeConsumed}
	if req.After != "" {
		c, err := decodeCursor(req.After)
		if err != nil {
			return nil, err
		}
		if c.Ranker != name {
			return nil, apperr.Errorf(apperr.BadInput, "cursor belongs to the %s feed, not %s", c.Ranker, name)
		}
		if c.User != cur.User || c.Surface != cur.Surface || c.Consumed != cur.Consumed {
			return nil, apperr.Errorf(apperr.BadInput, "cursor belongs to another feed (user, surface or includeConsumed differ)")
		}
		if c.Version != version {
			// Another replica may have trained a newer model: load it and look again.
			if err := s.Refresh(ctx); err != nil {
				return nil, err
			}
			s.mu.RLock()
			m, mod = s.mapping, s.models[name]
			s.mu.RUnlock()
			if mod != nil {
				version, numItems = mod.version, mod.numItems
			}
		}
		if c.Version != version {
			return nil, apperr.Errorf(apperr.BadInput, "cursor is stale: the %s model was retrained after the first page; start from the first page", name)
		}
		cur = c
	}
	page := &Page{Items: []Item{}, Ranker: name}
	if cur.Offset >= s.cfg.MaxDepth || req.First == 0 {
		return page, nil
	}

	q := sdk.Query{User: -1, K: s.cfg.MaxDepth, IncludeConsumed: req.IncludeConsumed}
	if u := m.User(req.UserID); u >= 0 && mod != nil && int(u) < mod.numUsers {
		q.User = u
	}
	recent, err := s.history(ctx, m, numItems, req.UserID, time.UnixMilli(cur.AsOf), &q)
	if err != nil {
		return nil, err
	}
	page.recent = recent
	if err := s.surface(ctx, m, numItems, req.UserID, req.Surface, &q); err != nil {
		return nil, err
	}
	if q.Candidates != nil && len(q.Candidates) == 0 {
		return page, nil
	}
	t0 := time.Now()
	res, err := s.host.Recommend(ctx, name, q)
	observe(name, "recommend", t0, res, err)
	if err != nil {
		return nil, hostErr(err)
	}
	page.Ranker, page.Fallback, page.Reason = res.Ranker, res.Fallback, res.Reason
	page.Total = len(res.Items)

	// Walk the ranking from the cursor, skipping content that is gone.
	// Read a few more than a page, to fill in for content that is gone.
	window := res.Items[min(cur.Offset, len(res.Items)):]
	lookahead := min(len(window), req.First+req.First/4+2)
	ids := make([]pulid.ID, 0, lookahead)
	for _, it := range window[:lookahead] {
		if int(it.Item) < len(m.Items) {
			ids = append(ids, m.Items[it.Item])
		}
	}
	contents, err := s.published(ctx, ids)
	if err != nil {
		return nil, err
	}
	reason := reasonFor(res)
	for i, it := range window {
		if len(page.Items) == req.First {
			page.HasNext = true
			break
		}
		if int(it.Item) >= len(m.Items) {
			continue
		}
		c := contents[m.Items[it.Item]]
		if c == nil {
			if i >= lookahead {
				break // rare: many removed items in a row; end the page here
			}
			continue
		}
		next := cur
		next.Offset = cur.Offset + i + 1
		page.Items = append(page.Items, Item{ContentID: c.ID, Content: c, Score: float64(it.Score),
			Ranker: res.Ranker, Reason: reason, Cursor: next.encode()})
	}
	return page, nil
}

// history adds the user's recent interactions (up to asOf) to q: positive
// ones as History (fold-in, and consumed), skips as Exclude.
func (s *Service) history(ctx context.Context, m *Mapping, numItems int, userID pulid.ID, asOf time.Time, q *sdk.Query) (map[pulid.ID]float64, error) {
	var rows []struct {
		ContentID pulid.ID         `json:"content_id"`
		Kind      interaction.Kind `json:"kind"`
	}
	err := s.client.Interaction.Query().
		Where(interaction.UserID(userID), interaction.OccurredAtLTE(asOf)).
		Order(ent.Desc(interaction.FieldOccurredAt)).Limit(s.cfg.HistoryLimit).
		Select(interaction.FieldContentID, interaction.FieldKind).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	recent := make(map[pulid.ID]float64, len(rows))
	weights := map[int32]float32{}
	var order []int32
	for _, r := range rows {
		recent[r.ContentID] += s.cfg.Pipeline.Weights[r.Kind]
		it := m.Item(r.ContentID)
		if it < 0 || int(it) >= numItems {
			continue
		}
		if _, seen := weights[it]; !seen {
			order = append(order, it)
		}
		weights[it] += float32(s.cfg.Pipeline.Weights[r.Kind])
	}
	for _, it := range order {
		if w := weights[it]; w > 0 {
			q.History = append(q.History, sdk.ItemWeight{Item: it, Weight: w})
		} else if !q.IncludeConsumed {
			q.Exclude = append(q.Exclude, it)
		}
	}
	return recent, nil
}

// Interests returns what the page's user has recently been into, from the
// interactions the feed read for the page anyway: tag weights and creator
// weights, each summing to 1. Ad selection uses them instead of reading the
// user's history a second time.
func (s *Service) Interests(ctx context.Context, p *Page) (tags, creators map[string]float64, err error) {
	ids := make([]pulid.ID, 0, len(p.recent))
	for id, w := range p.recent {
		if w > 0 {
			ids = append(ids, id)
		}
	}
	contents, err := s.published(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	tags, creators = map[string]float64{}, map[string]float64{}
	for id, c := range contents {
		w := p.recent[id]
		for _, t := range c.Tags {
			tags[t] += w
		}
		creators[string(c.InfluencerID)] += w
	}
	normalise(tags)
	normalise(creators)
	return tags, creators, nil
}

func normalise(m map[string]float64) {
	sum := 0.0
	for _, w := range m {
		sum += w
	}
	for k := range m {
		m[k] /= sum
	}
}

// surface narrows q to the creators the user follows, or to the others.
func (s *Service) surface(ctx context.Context, m *Mapping, numItems int, userID pulid.ID, sf Surface, q *sdk.Query) error {
	switch sf {
	case "", Home:
		return nil
	case Following, Explore:
	default:
		return apperr.Errorf(apperr.BadInput, "unknown surface %q", sf)
	}
	followed, err := s.client.Follow.Query().Where(follow.UserID(userID)).
		Select(follow.FieldInfluencerID).Strings(ctx)
	if err != nil {
		return fmt.Errorf("read follows: %w", err)
	}
	var items []pulid.ID
	if len(followed) > 0 {
		fids := make([]pulid.ID, len(followed))
		for i, f := range followed {
			fids[i] = pulid.ID(f)
		}
		items, err = s.client.Content.Query().
			Where(content.InfluencerIDIn(fids...), content.StatusEQ(content.StatusPUBLISHED)).IDs(ctx)
		if err != nil {
			return fmt.Errorf("read followed content: %w", err)
		}
	}
	idx := make([]int32, 0, len(items))
	for _, id := range items {
		if it := m.Item(id); it >= 0 && int(it) < numItems {
			idx = append(idx, it)
		}
	}
	if sf == Following {
		q.Candidates = idx
	} else {
		q.Exclude = append(q.Exclude, idx...)
	}
	return nil
}

// published loads the published content among ids, through the cache.
func (s *Service) published(ctx context.Context, ids []pulid.ID) (map[pulid.ID]*ent.Content, error) {
	now := time.Now()
	out, missing := s.cache.get(ids, now)
	if len(missing) > 0 {
		cs, err := s.client.Content.Query().Where(content.IDIn(missing...)).All(ctx)
		if err != nil {
			return nil, fmt.Errorf("load content: %w", err)
		}
		s.cache.put(cs, now)
		for _, c := range cs {
			out[c.ID] = c
		}
	}
	for id, c := range out {
		if c.Status != content.StatusPUBLISHED || c.PublishedAt.After(now) {
			delete(out, id)
		}
	}
	return out, nil
}

func reasonFor(res host.Result) string {
	var r string
	switch res.Ranker {
	case "als":
		r = "people with tastes like yours engaged with this"
	case "similarity":
		r = "similar to content you engaged with"
	case "popular":
		r = "trending now"
	default:
		r = "picked for you by " + res.Ranker
	}
	if res.Fallback {
		r += " (fallback: " + res.Reason + ")"
	}
	return r
}

func hostErr(err error) error {
	switch {
	case errors.Is(err, sdk.ErrBadInput):
		return apperr.Wrap(apperr.BadInput, err, "the ranker rejected the request")
	case errors.Is(err, host.ErrUnknownRanker):
		return apperr.Wrap(apperr.NotFound, err, "no such ranker")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return apperr.Wrap(apperr.Unavailable, err, "recommendations are unavailable right now")
}

// Similar returns up to first pieces of content like contentID. Content the
// model has not seen yet gets what is trending instead.
func (s *Service) Similar(ctx context.Context, contentID pulid.ID, first int, ranker string) (*Page, error) {
	if first < 0 || first > 100 {
		return nil, apperr.Errorf(apperr.BadInput, "first must be between 0 and 100")
	}
	if ranker == "" {
		ranker = "similarity"
	}
	if !s.known(ranker) {
		return nil, apperr.Errorf(apperr.NotFound, "no ranker named %q", ranker)
	}
	if ok, err := s.client.Content.Query().Where(content.ID(contentID)).Exist(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, apperr.Errorf(apperr.NotFound, "content %s not found", contentID)
	}
	page := &Page{Items: []Item{}}
	if first == 0 {
		return page, nil
	}
	s.mu.RLock()
	m := s.mapping
	mod := s.models[ranker]
	s.mu.RUnlock()
	it := m.Item(contentID)
	var res host.Result
	var err error
	if it >= 0 && mod != nil && int(it) < mod.numItems {
		t0 := time.Now()
		res, err = s.host.Similar(ctx, ranker, it, first+10, nil)
		observe(ranker, "similar", t0, res, err)
	} else {
		q := sdk.Query{User: -1, K: first + 10}
		if it >= 0 {
			q.Exclude = []int32{it}
		}
		res, err = s.host.Recommend(ctx, "popular", q)
		res.Fallback, res.Reason = true, "content is newer than the model"
	}
	if err != nil {
		return nil, hostErr(err)
	}
	page.Ranker, page.Fallback, page.Reason = res.Ranker, res.Fallback, res.Reason
	ids := make([]pulid.ID, 0, len(res.Items))
	for _, x := range res.Items {
		if int(x.Item) < len(m.Items) {
			ids = append(ids, m.Items[x.Item])
		}
	}
	contents, err := s.published(ctx, ids)
	if err != nil {
		return nil, err
	}
	reason := "similar to this content"
	if res.Fallback {
		reason = "trending now (fallback: " + res.Reason + ")"
	}
	for _, x := range res.Items {
		if len(page.Items) == first {
			break
		}
		if int(x.Item) >= len(m.Items) {
			continue
		}
		if c := contents[m.Items[x.Item]]; c != nil && c.ID != contentID {
			page.Items = append(page.Items, Item{ContentID: c.ID, Content: c, Score: float64(x.Score), Ranker: res.Ranker, Reason: reason})
		}
	}
	page.Total = len(page.Items)
	return page, nil
}

// InfluencerScore is a recommended creator.
type InfluencerScore struct {
	InfluencerID pulid.ID
	Score        float64
	Reason       string
}

// RecommendedInfluencers ranks creators the user does not follow yet by how
// much of their content the user's feed ranks highly.
func (s *Service) RecommendedInfluencers(ctx context.Context, userID pulid.ID, first int, now time.Time) ([]InfluencerScore, error) {
	if first < 0 || first > 100 {
		return nil, apperr.Errorf(apperr.BadInput, "first must be between 0 and 100")
	}
	page, err := s.Recommend(ctx, Request{UserID: userID, First: 100, Surface: Explore, Now: now})
	if err != nil {
		return nil, err
	}
	scores := map[pulid.ID]float64{}
	best := map[pulid.ID]string{}
	for rank, it := range page.Items {
		id := it.Content.InfluencerID
		scores[id] += 1 / math.Log2(float64(rank)+2)
		if _, ok := best[id]; !ok {
			best[id] = it.Content.Title
		}
	}
	out := make([]InfluencerScore, 0, len(scores))
	for id, sc := range scores {
		out = append(out, InfluencerScore{InfluencerID: id, Score: sc, Reason: fmt.Sprintf("makes content you'd like, such as %q", best[id])})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		return out[a].InfluencerID < out[b].InfluencerID
	})
	if len(out) > first {
		out = out[:first]
	}
	return out, nil
}

// errFallback marks, in metrics, a call the fallback had to answer.
var errFallback = errors.New("served by the fallback")

// observe records a ranker call's latency, and as an error a failed call or
// one the fallback answered.
func observe(ranker, method string, t0 time.Time, res host.Result, err error) {
	if err == nil && res.Fallback {
		err = errFallback
	}
	metrics.RankerCall(ranker, method, time.Since(t0), err)
}
