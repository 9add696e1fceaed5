package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// Content is something a creator published: a video, a post, a live stream.
type Content struct{ ent.Schema }

func (Content) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("CO"), timeMixin{}} }

func (Content) Fields() []ent.Field {
	return []ent.Field{
		field.String("influencer_id").GoType(pulid.ID("")),
		field.Enum("kind").Values("VIDEO", "POST", "LIVE", "AUDIO"),
		field.String("title").NotEmpty().MaxLen(300).
			Annotations(entgql.OrderField("TITLE")),
		field.Text("body").MaxLen(20000).Default(""),
		field.Strings("tags").Optional().Validate(validTags),
		field.String("category").MaxLen(50).Default(""),
		field.String("language").MaxLen(8).Default("en"),
		field.Time("published_at").Default(func() time.Time { return time.Now().UTC() }).
			Annotations(entgql.OrderField("PUBLISHED_AT")),
		field.Enum("status").Values("DRAFT", "PUBLISHED", "REMOVED").Default("PUBLISHED"),
		field.String("external_id").Optional().Nillable().Unique().MaxLen(200).
			Annotations(entgql.Skip()).
			Comment("The item's ID in an imported dataset (\"<source>:<id>\"), so re-imports find it."),
	}
}

func (Content) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("influencer", Influencer.Type).Ref("contents").Field("influencer_id").Unique().Required(),
		edge.To("interactions", Interaction.Type).Annotations(entgql.Skip()),
		edge.To("product_links", ProductLink.Type).Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

func (Content) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("influencer_id", "published_at"),
		index.Fields("published_at"),
	}
}

func (Content) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Interaction is one signal from a fan about a piece of content.
type Interaction struct{ ent.Schema }

func (Interaction) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("IX")} }

func (Interaction) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")),
		field.String("content_id").GoType(pulid.ID("")),
		field.Enum("kind").Values("VIEW", "LIKE", "COMMENT", "SHARE", "CLICK", "SKIP"),
		field.Float("weight").Min(0).Max(100).Default(1),
		field.Int("dwell_ms").NonNegative().Max(24 * 3600 * 1000).Default(0),
		field.String("ranker").MaxLen(64).Default("").Comment("The ranker that served the content, if any."),
		field.Time("occurred_at"),
		field.String("event_id").Optional().Nillable().MaxLen(64).
			Comment("Client-chosen ID that makes retried batches idempotent."),
	}
}

func (Interaction) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("interactions").Field("user_id").Unique().Required(),
		edge.From("content", Content.Type).Ref("interactions").Field("content_id").Unique().Required(),
	}
}

func (Interaction) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

func (Interaction) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "occurred_at"),
		index.Fields("content_id", "occurred_at"),
		index.Fields("occurred_at"),
		index.Fields("user_id", "event_id").Unique(),
	}
}
