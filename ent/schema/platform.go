package schema

import (
	"time"

	entsql "entgo.io/ent/dialect/entsql"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
)

// APIKey authenticates a caller; only a hash of the secret is stored.
type APIKey struct{ ent.Schema }

func (APIKey) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("AK"), timeMixin{}} }

func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("role").Values("ADMIN", "APP", "PARTNER", "INFLUENCER"),
		field.String("owner_id").MaxLen(64).Default(""),
		field.String("hash").Unique().Sensitive().MaxLen(64),
		field.String("label").MaxLen(200).Default(""),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// RankerModel is a trained model snapshot exported by a ranker plugin.
type RankerModel struct{ ent.Schema }

func (RankerModel) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("RM"), timeMixin{}}
}

func (RankerModel) Fields() []ent.Field {
	return []ent.Field{
		field.String("ranker").NotEmpty().MaxLen(64),
		field.String("version").MaxLen(64).Default(""),
		field.Bytes("snapshot").Comment("The plugin's exported model."),
		field.Bytes("mapping").Comment("Dense index to entity ID maps for users and items."),
		field.JSON("metrics", map[string]float64{}).Optional(),
		field.JSON("params", map[string]string{}).Optional().Comment("Hyperparameters the model was trained with (those configured; the rest are the ranker's defaults)."),
		field.Int("interactions").NonNegative().Default(0),
		field.Time("trained_at").Default(func() time.Time { return time.Now().UTC() }),
	}
}

func (RankerModel) Indexes() []ent.Index {
	return []ent.Index{index.Fields("ranker", "trained_at")}
}

func (RankerModel) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Variant is one arm of an experiment.
type Variant struct {
	Ranker string `json:"ranker"`
	Weight int    `json:"weight"`
}

// Experiment splits users between rankers to compare them online.
type Experiment struct{ ent.Schema }

func (Experiment) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("EX"), timeMixin{}}
}

func (Experiment) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Unique().NotEmpty().MaxLen(200),
		field.JSON("variants", []Variant{}).Annotations(entgql.Skip()),
		field.Enum("status").Values("RUNNING", "STOPPED").Default("RUNNING"),
		field.Time("stopped_at").Optional().Nillable(),
	}
}

func (Experiment) Indexes() []ent.Index {
	return []ent.Index{
		// At most one experiment runs at a time, even when two start at once.
		index.Fields("status").Unique().Annotations(entsql.IndexWhere("status = 'RUNNING'")),
	}
}
