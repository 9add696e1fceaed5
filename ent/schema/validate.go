package schema

import (
	"entgo.io/contrib/entgql"
	"errors"
	"fmt"
	"regexp"
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/bojanz/currency"
)

// handleRE is what a handle may look like: lowercase letters, digits and
// underscores, 3 to 30 characters, so handles are safe in URLs and mentions.
var handleRE = regexp.MustCompile(`^[a-z0-9_]{3,30}$`)

func validHandle(s string) error {
	if !handleRE.MatchString(s) {
		return errors.New("handle must be 3-30 characters of a-z, 0-9 and _")
	}
	return nil
}

// validCurrency accepts ISO 4217 codes known to the currency package.
func validCurrency(s string) error {
	if !currency.IsValid(s) {
		return fmt.Errorf("unknown currency %q", s)
	}
	return nil
}

func validTags(tags []string) error {
	if len(tags) > 32 {
		return errors.New("at most 32 tags")
	}
	for _, t := range tags {
		if t == "" || len(t) > 64 {
			return errors.New("tags must be 1-64 characters")
		}
	}
	return nil
}

func currencyField(name string) ent.Field {
	return field.String(name).MaxLen(3).Validate(validCurrency)
}

// timeMixin adds an immutable UTC creation time.
type timeMixin struct{ mixin.Schema }

func (timeMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Immutable().Default(func() time.Time { return time.Now().UTC() }).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// countryRE is an ISO 3166-1 alpha-2 code.
var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)
