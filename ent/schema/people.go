package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"time"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// User is a fan: someone who follows creators and consumes content.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("US"), timeMixin{}} }

func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("handle").Unique().Validate(validHandle).
			Annotations(entgql.OrderField("HANDLE")),
		field.String("display_name").MaxLen(100).Default(""),
		field.String("country").Optional().MaxLen(2).
			Match(countryRE),
		field.Enum("age_bracket").Values("AGE_13_17", "AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54", "AGE_55_PLUS").
			Optional().Nillable(),
		field.String("external_id").Optional().Nillable().Unique().MaxLen(200).
			Annotations(entgql.Skip()).
			Comment("The user's ID in an imported dataset (\"<source>:<id>\"), so re-imports find it."),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("following", Influencer.Type).Through("follows", Follow.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("interactions", Interaction.Type).Annotations(entgql.Skip()),
	}
}

func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Influencer is a creator: someone who publishes content and gets paid.
type Influencer struct{ ent.Schema }

func (Influencer) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("IN"), timeMixin{}}
}

func (Influencer) Fields() []ent.Field {
	return []ent.Field{
		field.String("handle").Unique().Validate(validHandle).
			Annotations(entgql.OrderField("HANDLE")),
		field.String("display_name").MaxLen(100).Default(""),
		field.String("bio").MaxLen(2000).Default(""),
		field.String("category").MaxLen(50).Default(""),
		field.String("country").Optional().MaxLen(2).Match(countryRE),
		field.Int("take_rate_bps").Optional().Nillable().Min(0).Max(10000).
			Comment("Platform take rate on tips for this creator, overriding the default."),
		field.Int("follower_count").Default(0).NonNegative().
			Annotations(entgql.OrderField("FOLLOWER_COUNT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

func (Influencer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("followers", User.Type).Ref("following").Through("follows", Follow.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("contents", Content.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

func (Influencer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}

// Follow is the edge between a fan and a creator, with when it happened.
type Follow struct{ ent.Schema }

func (Follow) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("FO")} }

func (Follow) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")),
		field.String("influencer_id").GoType(pulid.ID("")),
		field.Time("created_at").Immutable().Default(func() time.Time { return time.Now().UTC() }),
	}
}

func (Follow) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("user", User.Type).Field("user_id").Required().Unique(),
		edge.To("influencer", Influencer.Type).Field("influencer_id").Required().Unique(),
	}
}

func (Follow) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "influencer_id").Unique(),
		index.Fields("influencer_id", "created_at"),
	}
}

func (Follow) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
