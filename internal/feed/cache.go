package feed

import (
	"sync"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// contentCache keeps recently served content rows for a few seconds, so a
// busy feed does not read the same rows for every request. Feeds may show a
// change to a piece of content (an edit, a removal) up to ttl late.
type contentCache struct {
	ttl time.Duration
	max int

	mu   sync.Mutex
	rows map[pulid.ID]cachedContent
}

type cachedContent struct {
	c  *ent.Content
	at time.Time
}

func newContentCache(ttl time.Duration, max int) *contentCache {
	return &contentCache{ttl: ttl, max: max, rows: make(map[pulid.ID]cachedContent)}
}

// get returns the cached rows among ids and the ids it does not hold.
func (c *contentCache) get(ids []pulid.ID, now time.Time) (map[pulid.ID]*ent.Content, []pulid.ID) {
	found := make(map[pulid.ID]*ent.Content, len(ids))
	var missing []pulid.ID
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if e, ok := c.rows[id]; ok && now.Sub(e.at) < c.ttl {
			found[id] = e.c
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}

// put caches rows read at now.
func (c *contentCache) put(rows []*ent.Content, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rows)+len(rows) > c.max {
		clear(c.rows) // crude but bounded; a full cache refills in one TTL
	}
	for _, r := range rows {
		c.rows[r.ID] = cachedContent{c: r, at: now}
	}
}
