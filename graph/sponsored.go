package graph

import (
	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// SponsoredContent is an ad placed in a feed slot.
type SponsoredContent struct {
	// ID identifies the placement (one served impression).
	ID pulid.ID `json:"id"`
	// Ad is the ad shown.
	Ad *ent.Ad `json:"ad"`
	// ClickURL is the signed, tracked click-through path.
	ClickURL string `json:"clickUrl"`
	// Label is what the user sees, e.g. "Sponsored".
	Label string `json:"label"`
}

// IsNode lets a placement stand in a feed next to ent nodes.
func (*SponsoredContent) IsNode() {}
