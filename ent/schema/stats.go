package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// AdStatDaily is the daily rollup of AdEvent rows per campaign at several
// grains: per day alone, and per day with the ad, the creator, both, the
// creator and content, or all three (grain says which; keys outside the
// grain are empty). internal/stats maintains every grain in the transaction that
// inserts the event (an ent hook) and answers campaignStats from the
// coarsest grain that has the requested keys, so a campaign with millions
// of events is read in tens to thousands of rows.
type AdStatDaily struct{ ent.Schema }

func (AdStatDaily) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").GoType(pulid.ID("")),
		field.Int("grain").Min(0).Max(7).Comment("Bit set of the keys kept: 1 ad, 2 creator, 4 content."),
		field.Time("day").Comment("UTC midnight of the events' day."),
		field.String("ad_id").GoType(pulid.ID("")).Default(""),
		field.String("influencer_id").GoType(pulid.ID("")).Default("").Comment("Empty when the event had no creator."),
		field.String("content_id").GoType(pulid.ID("")).Default("").Comment("Empty when the event had no content."),
		field.Int64("impressions").NonNegative().Default(0),
		field.Int64("clicks").NonNegative().Default(0),
		field.Int64("conversions").NonNegative().Default(0),
		field.Int64("cost_minor").NonNegative().Default(0),
		field.Int64("revenue_minor").NonNegative().Default(0),
		field.Time("updated_at").Default(func() time.Time { return time.Now().UTC() }),
	}
}

func (AdStatDaily) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("campaign_id", "grain", "day", "ad_id", "influencer_id", "content_id").Unique(),
	}
}

func (AdStatDaily) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }
