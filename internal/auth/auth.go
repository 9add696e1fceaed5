// Package auth issues and checks API keys. A key is shown once when it is
// created; only its SHA-256 hash is stored. Each key has a role and, for
// partners and creators, the ID of what it owns. The Principal a key stands
// for travels in the request context.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/apikey"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/partner"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
)

// Role is what a key may do.
type Role = apikey.Role

// The roles.
const (
	// Admin may do everything.
	Admin = apikey.RoleADMIN
	// App is a frontend acting for its users: feeds, interactions, follows, tips.
	App = apikey.RoleAPP
	// Partner is a brand: its own campaigns, ads, products, conversions and stats.
	Partner = apikey.RolePARTNER
	// Influencer is a creator: its own content, stats and earnings.
	Influencer = apikey.RoleINFLUENCER
)

// Prefix starts every secret, so leaked keys are easy to recognise and scan for.
const Prefix = "ll_"

// secretBytes is the entropy of a secret.
const secretBytes = 32

// secretLen is the length of a well-formed secret.
var secretLen = len(Prefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// Principal is the caller a valid key stands for.
type Principal struct {
	// KeyID is the ID of the API key (safe to log).
	KeyID pulid.ID
	// Role is the key's role.
	Role Role
	// OwnerID is the partner (PA...) or creator (IN...) the key acts for;
	// empty for ADMIN and APP keys.
	OwnerID pulid.ID
}

// Owns reports whether p is the owner ownerID, for roles that have owners.
func (p *Principal) Owns(ownerID pulid.ID) bool {
	return p != nil && p.OwnerID != "" && p.OwnerID == ownerID
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller, or nil for a request without a key.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Hash returns the stored form of a secret.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Wellformed reports whether s looks like a secret this package issued.
func Wellformed(s string) bool {
	if len(s) != secretLen || !strings.HasPrefix(s, Prefix) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s[len(Prefix):])
	return err == nil
}

// Create issues a key with role for ownerID and returns it with its secret,
// which is not stored and cannot be shown again. PARTNER keys need an
// existing partner, INFLUENCER keys an existing creator; ADMIN and APP keys
// take no owner.
func Create(ctx context.Context, client *ent.Client, role Role, ownerID pulid.ID, label string) (*ent.APIKey, string, error) {
	if err := apikey.RoleValidator(role); err != nil {
		return nil, "", apperr.Errorf(apperr.BadInput, "unknown role %q", role)
	}
	switch role {
	case Partner, Influencer:
		if ownerID == "" {
			return nil, "", apperr.Errorf(apperr.BadInput, "%s keys need an owner id", role)
		}
		var err error
		var ok bool
		if role == Partner {
			ok, err = client.Partner.Query().Where(partner.ID(ownerID)).Exist(ctx)
		} else {
			ok, err = client.Influencer.Query().Where(influencer.ID(ownerID)).Exist(ctx)
		}
		if err != nil {
			return nil, "", fmt.Errorf("check key owner: %w", err)
		}
		if !ok {
			kind := map[Role]string{Partner: "partner (PA...)", Influencer: "influencer (IN...)"}[role]
			return nil, "", apperr.Errorf(apperr.NotFound, "%s keys are owned by a %s, and %s is not one", role, kind, ownerID)
		}
	default:
		if ownerID != "" {
			return nil, "", apperr.Errorf(apperr.BadInput, "%s keys take no owner id", role)
		}
	}
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, "", fmt.Errorf("generate key: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(b)
	k, err := client.APIKey.Create().SetRole(role).SetOwnerID(string(ownerID)).SetLabel(label).SetHash(Hash(secret)).Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("store key: %w", err)
	}
	return k, secret, nil
}

// Revoke revokes a key; revoking twice is harmless. It returns the key.
func Revoke(ctx context.Context, client *ent.Client, id pulid.ID, now time.Time) (*ent.APIKey, error) {
	k, err := client.APIKey.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.NotFound, "API key %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	return k.Update().SetRevokedAt(now.UTC()).Save(ctx)
}

// Authenticate returns the principal for secret. Malformed, unknown and
// revoked keys are UNAUTHENTICATED, with the same message so a caller
// learns nothing about which keys exist.
func Authenticate(ctx context.Context, client *ent.Client, secret string) (*Principal, error) {
	if !Wellformed(secret) {
		return nil, apperr.Errorf(apperr.Unauthorized, "malformed API key")
	}
	k, err := client.APIKey.Query().Where(apikey.Hash(Hash(secret))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.Errorf(apperr.Unauthorized, "invalid or revoked API key")
	}
	if err != nil {
		return nil, fmt.Errorf("look up key: %w", err)
	}
	if k.RevokedAt != nil {
		return nil, apperr.Errorf(apperr.Unauthorized, "invalid or revoked API key")
	}
	return &Principal{KeyID: k.ID, Role: k.Role, OwnerID: pulid.ID(k.OwnerID)}, nil
}

// Bootstrap creates an ADMIN key when the database holds no key at all and
// returns its secret; it returns "" when keys exist already.
func Bootstrap(ctx context.Context, client *ent.Client) (string, error) {
	n, err := client.APIKey.Query().Count(ctx)
	if err != nil {
		return "", fmt.Errorf("count keys: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	_, secret, err := Create(ctx, client, Admin, "", "bootstrap admin key")
	return secret, err
}
