package graph

import (
	"context"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/internal/auth"
)

// hideUnpublished makes every content query on client (connections, edges,
// node lookups, and the services behind resolvers) see only published
// content whose publication time has come, unless the caller is an ADMIN or
// the creator who owns it. Requests without a principal (training, jobs)
// see published content too.
func hideUnpublished(client *ent.Client) {
	client.Content.Intercept(ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
		p := auth.FromContext(ctx)
		if p != nil && p.Role == auth.Admin {
			return nil
		}
		cq, ok := q.(*ent.ContentQuery)
		if !ok {
			return nil
		}
		visible := content.And(content.StatusEQ(content.StatusPUBLISHED), content.PublishedAtLTE(time.Now().UTC()))
		if p != nil && p.Role == auth.Influencer && p.OwnerID != "" {
			visible = content.Or(visible, content.InfluencerID(p.OwnerID))
		}
		cq.Where(visible)
		return nil
	}))
}
