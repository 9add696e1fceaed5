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

// Partner is a brand or advertiser that runs campaigns and sells products.
type Partner struct{ ent.Schema }

func (Partner) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("PA"), timeMixin{}} }

func (Partner) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		currencyField("currency"),
	}
}

func (Partner) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("campaigns", Campaign.Type),
		edge.To("products", Product.Type),
	}
}

// Campaign is a partner's budgeted advertising effort.
type Campaign struct{ ent.Schema }

func (Campaign) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("CA"), timeMixin{}} }

func (Campaign) Fields() []ent.Field {
	return []ent.Field{
		field.String("partner_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("name").NotEmpty().MaxLen(200),
		currencyField("currency"),
		field.Int64("budget_minor").NonNegative(),
		field.Int64("spent_minor").NonNegative().Default(0),
		field.Int64("impressions").NonNegative().Default(0).
			Comment("Impressions served; CPM spend is charged so that the total is exactly impressions × bid / 1000, rounded down."),
		field.Enum("pricing").Values("CPM", "CPC", "CPA"),
		field.Int64("bid_minor").NonNegative(),
		field.Time("starts_at"),
		field.Time("ends_at"),
		field.Strings("target_tags").Optional().Validate(validTags),
		field.Strings("target_categories").Optional().Validate(validTags),
		field.Strings("target_influencers").Optional(),
		field.Int("frequency_cap").NonNegative().Default(0).Comment("Impressions per user per day; 0 means no cap."),
		field.Enum("status").Values("ACTIVE", "PAUSED", "ENDED").Default("ACTIVE"),
	}
}

func (Campaign) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("partner", Partner.Type).Ref("campaigns").Field("partner_id").Unique().Required(),
		edge.To("ads", Ad.Type),
	}
}

// Ad is one creative of a campaign.
type Ad struct{ ent.Schema }

func (Ad) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("AD"), timeMixin{}} }

func (Ad) Fields() []ent.Field {
	return []ent.Field{
		field.String("campaign_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("title").NotEmpty().MaxLen(200),
		field.String("body").MaxLen(2000).Default(""),
		field.String("target_url").NotEmpty().MaxLen(2000),
		field.Enum("status").Values("ACTIVE", "PAUSED").Default("ACTIVE"),
		field.Int64("impressions").NonNegative().Default(0).Comment("Served impressions, for the CTR estimate."),
		field.Int64("clicks").NonNegative().Default(0).Comment("Charged clicks, for the CTR estimate."),
		field.Int64("conversions").NonNegative().Default(0).Comment("Conversions, for the CVR estimate."),
	}
}

func (Ad) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("campaign", Campaign.Type).Ref("ads").Field("campaign_id").Unique().Required(),
	}
}

// AdEvent is an impression, click or conversion of an ad, as served.
type AdEvent struct{ ent.Schema }

func (AdEvent) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("AE")} }

func (AdEvent) Fields() []ent.Field {
	return []ent.Field{
		field.String("ad_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("campaign_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("user_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional(),
		field.String("content_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional(),
		field.String("influencer_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional(),
		field.Enum("kind").Values("IMPRESSION", "CLICK", "CONVERSION"),
		field.Int64("cost_minor").NonNegative().Default(0),
		field.Int64("revenue_minor").NonNegative().Default(0),
		field.String("idempotency_key").Optional().Nillable().MaxLen(200).Unique(),
		field.String("impression_id").GoType(pulid.ID("")).Optional().
			Comment("For clicks and conversions: the impression they follow."),
		field.Time("occurred_at"),
	}
}

func (AdEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("campaign_id", "occurred_at"),
		index.Fields("ad_id", "user_id", "occurred_at"),
		index.Fields("campaign_id", "user_id", "occurred_at"),
		index.Fields("influencer_id", "occurred_at"),
		index.Fields("impression_id", "kind"),
	}
}

func (AdEvent) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Product is something a partner sells through creators' links.
type Product struct{ ent.Schema }

func (Product) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("PR"), timeMixin{}} }

func (Product) Fields() []ent.Field {
	return []ent.Field{
		field.String("partner_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("name").NotEmpty().MaxLen(200),
		field.Int64("price_minor").NonNegative(),
		currencyField("currency"),
		field.String("category").MaxLen(50).Default(""),
		field.String("url").MaxLen(2000).Default("").Comment("Where a product link click is sent."),
	}
}

func (Product) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("partner", Partner.Type).Ref("products").Field("partner_id").Unique().Required(),
		edge.To("links", ProductLink.Type),
	}
}

// ProductLink is an affiliate link to a product placed on a piece of content.
type ProductLink struct{ ent.Schema }

func (ProductLink) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("PL"), timeMixin{}}
}

func (ProductLink) Fields() []ent.Field {
	return []ent.Field{
		field.String("product_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("content_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("code").Unique().NotEmpty().MaxLen(64),
		field.Int("commission_bps").Min(0).Max(10000),
		field.Int("attribution_days").Min(1).Max(90).Default(7),
	}
}

func (ProductLink) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("product", Product.Type).Ref("links").Field("product_id").Unique().Required(),
		edge.From("content", Content.Type).Ref("product_links").Field("content_id").Unique().Required(),
		edge.To("clicks", LinkClick.Type).Annotations(entgql.Skip()),
	}
}

// LinkClick is a click through a product link's /r/{code} redirect; conversions are attributed to it.
type LinkClick struct{ ent.Schema }

func (LinkClick) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("LC")} }

func (LinkClick) Fields() []ent.Field {
	return []ent.Field{
		field.String("link_id").GoType(pulid.ID("")).Immutable(),
		field.String("user_id").GoType(pulid.ID("")).Optional().Comment("Empty when the clicker is unknown or forgotten."),
		field.Time("occurred_at").Immutable(),
	}
}

func (LinkClick) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("link", ProductLink.Type).Ref("clicks").Field("link_id").Unique().Required().Immutable(),
	}
}

func (LinkClick) Indexes() []ent.Index {
	return []ent.Index{index.Fields("link_id", "user_id", "occurred_at")}
}

func (LinkClick) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Conversion is a sale attributed to a product link.
type Conversion struct{ ent.Schema }

func (Conversion) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("CV"), timeMixin{}}
}

func (Conversion) Fields() []ent.Field {
	return []ent.Field{
		field.String("link_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("partner_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("influencer_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("user_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional(),
		field.String("order_ref").NotEmpty().MaxLen(200),
		field.Int64("amount_minor").Positive(),
		field.Int64("commission_minor").NonNegative(),
		field.Int64("fee_minor").NonNegative().Default(0).Comment("The platform's part of the commission."),
		field.String("click_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional().Comment("The click the sale is attributed to."),
		field.String("idempotency_key").NotEmpty().MaxLen(200).Unique().Immutable().Annotations(entgql.Skip()),
		field.String("request_hash").MaxLen(64).Immutable().Annotations(entgql.Skip()),
		field.String("transaction_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional(),
		field.String("reversal_key").Optional().Nillable().MaxLen(200).Unique().Annotations(entgql.Skip()),
		field.String("reversal_reason").MaxLen(500).Default(""),
		field.Time("reversed_at").Optional().Nillable(),
		currencyField("currency"),
		field.Enum("status").Values("PENDING", "AVAILABLE", "REVERSED").Default("PENDING"),
		field.Time("occurred_at"),
		field.Time("available_at"),
	}
}

func (Conversion) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("partner_id", "order_ref").Unique(),
		index.Fields("influencer_id", "occurred_at"),
		index.Fields("status", "available_at"),
	}
}

// Tip is money a fan sends to a creator.
type Tip struct{ ent.Schema }

func (Tip) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("TI"), timeMixin{}} }

func (Tip) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional().Comment("Empty once the fan is forgotten."),
		field.String("influencer_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.Int64("amount_minor").Positive(),
		field.Int64("fee_minor").NonNegative(),
		currencyField("currency"),
		field.String("message").MaxLen(280).Default(""),
		field.String("idempotency_key").NotEmpty().MaxLen(200).Unique().Annotations(entgql.Skip()),
		field.String("transaction_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
	}
}

func (Tip) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "created_at"),
		index.Fields("influencer_id", "created_at"),
	}
}

// LedgerAccount holds money of one owner in one currency.
type LedgerAccount struct{ ent.Schema }

func (LedgerAccount) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("LA"), timeMixin{}}
}

func (LedgerAccount) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("owner_type").Values("PLATFORM", "CREATOR", "PARTNER", "FAN", "EXTERNAL"),
		field.String("owner_id").MaxLen(64).Default(""),
		field.String("bucket").MaxLen(32).Default("available").Comment("available, pending, payout, ..."),
		currencyField("currency"),
		field.Int64("balance_minor").Default(0).Comment("Cached sum of entries, updated in the posting transaction."),
	}
}

func (LedgerAccount) Indexes() []ent.Index {
	return []ent.Index{index.Fields("owner_type", "owner_id", "bucket", "currency").Unique()}
}

func (LedgerAccount) Edges() []ent.Edge {
	return []ent.Edge{edge.To("entries", LedgerEntry.Type)}
}

func (LedgerAccount) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// LedgerTransaction is an immutable, balanced set of entries.
type LedgerTransaction struct{ ent.Schema }

func (LedgerTransaction) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("LT"), timeMixin{}}
}

func (LedgerTransaction) Fields() []ent.Field {
	return []ent.Field{
		field.String("idempotency_key").NotEmpty().MaxLen(200).Unique().Immutable(),
		field.String("kind").NotEmpty().MaxLen(32).Immutable(),
		field.String("request_hash").MaxLen(64).Immutable().Comment("Hash of the request, to tell a replay from a conflicting reuse of the key."),
		field.String("memo").MaxLen(500).Default("").Immutable(),
	}
}

func (LedgerTransaction) Edges() []ent.Edge {
	return []ent.Edge{edge.To("entries", LedgerEntry.Type)}
}

func (LedgerTransaction) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}

// LedgerEntry moves an amount into (positive) or out of (negative) an account.
type LedgerEntry struct{ ent.Schema }

func (LedgerEntry) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("LE")} }

func (LedgerEntry) Fields() []ent.Field {
	return []ent.Field{
		field.String("transaction_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Immutable(),
		field.String("account_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Immutable(),
		field.Int64("amount_minor").Immutable(),
		field.String("currency").MaxLen(3).Validate(validCurrency).Immutable(),
		field.String("kind").MaxLen(32).Default("").Immutable().Comment("The transaction's kind, copied for per-source aggregates."),
		field.Time("created_at").Immutable().Default(func() time.Time { return time.Now().UTC() }),
	}
}

func (LedgerEntry) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("transaction", LedgerTransaction.Type).Ref("entries").Field("transaction_id").Unique().Required().Immutable(),
		edge.From("account", LedgerAccount.Type).Ref("entries").Field("account_id").Unique().Required().Immutable(),
	}
}

func (LedgerEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("account_id", "created_at"), index.Fields("transaction_id")}
}

func (LedgerEntry) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }

// Payout sends a creator's available balance out of the platform.
type Payout struct{ ent.Schema }

func (Payout) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("PO"), timeMixin{}} }

func (Payout) Fields() []ent.Field {
	return []ent.Field{
		field.String("influencer_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("run_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")),
		field.String("run_key").NotEmpty().MaxLen(200).Annotations(entgql.Skip()),
		field.Int64("amount_minor").Positive(),
		currencyField("currency"),
		field.Enum("status").Values("PENDING", "PAID", "FAILED").Default("PENDING"),
		field.String("external_ref").MaxLen(200).Default(""),
		field.String("failure_reason").MaxLen(500).Default(""),
		field.String("transaction_id").GoType(pulid.ID("")).Annotations(entgql.Type("ID")).Optional().Comment("The ledger transaction that moved the funds to the payout bucket."),
		field.Time("settled_at").Optional().Nillable(),
	}
}

func (Payout) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("run", PayoutRun.Type).Ref("payouts").Field("run_id").Unique().Required(),
	}
}

func (Payout) Indexes() []ent.Index {
	return []ent.Index{index.Fields("run_key", "influencer_id").Unique()}
}

// PayoutRun is one execution of runPayouts; its idempotency key makes the run exactly-once.
type PayoutRun struct{ ent.Schema }

func (PayoutRun) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("PN"), timeMixin{}} }

func (PayoutRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("idempotency_key").NotEmpty().MaxLen(200).Unique().Immutable().Annotations(entgql.Skip()),
		field.String("request_hash").MaxLen(64).Immutable().Annotations(entgql.Skip()),
		currencyField("currency"),
		field.Int64("minimum_minor").NonNegative().Immutable(),
		field.Int64("total_minor").NonNegative().Default(0),
		field.Int("count").NonNegative().Default(0),
	}
}

func (PayoutRun) Edges() []ent.Edge {
	return []ent.Edge{edge.To("payouts", Payout.Type)}
}

// TrackingKey is the secret that signs ad click tokens, kept in the database so every replica shares it.
type TrackingKey struct{ ent.Schema }

func (TrackingKey) Mixin() []ent.Mixin { return []ent.Mixin{pulid.MixinWithPrefix("TK"), timeMixin{}} }

func (TrackingKey) Fields() []ent.Field {
	return []ent.Field{field.Bytes("secret").Sensitive().Immutable()}
}

func (TrackingKey) Annotations() []schema.Annotation { return []schema.Annotation{entgql.Skip()} }
