package ads

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/trackingkey"
	"github.com/limelight-hq/limelight/internal/metrics"
)

// tokenPrefix versions the click token format. Tokens contain dots; product
// link codes never do, so /r/ can tell them apart.
const tokenPrefix = "a1."

// ErrBadToken is returned for a click token that is malformed, forged or tampered with.
var ErrBadToken = errors.New("invalid click token")

var (
	rejected        atomic.Int64
	rejectedCounter = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "limelight_ad_click_tokens_rejected_total",
		Help: "Ad click tokens rejected as malformed, forged or tampered with.",
	})
)

func init() { metrics.Registry.MustRegister(rejectedCounter) }

// RejectedTokens is how many click tokens this process rejected.
func RejectedTokens() int64 { return rejected.Load() }

func countRejected() {
	rejected.Add(1)
	rejectedCounter.Inc()
}

// IsToken reports whether s has the shape of an ad click token (it may still be forged).
func IsToken(s string) bool { return strings.HasPrefix(s, tokenPrefix) }

// secrets caches the signing secret per client; it lives in the database
// (TrackingKey) so every replica signs and verifies with the same one.
var secrets sync.Map // *ent.Client → []byte

// keyID is the one TrackingKey row: a fixed ID makes concurrent first starts
// of several replicas agree on one secret (insert-if-absent, then read).
const keyID = pulid.ID("TK00000000000000000000000000")

func secret(ctx context.Context, client *ent.Client) ([]byte, error) {
	if s, ok := secrets.Load(client); ok {
		return s.([]byte), nil
	}
	k, err := client.TrackingKey.Get(ctx, keyID)
	if ent.IsNotFound(err) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("tracking key: %w", err)
		}
		err = client.TrackingKey.Create().SetID(keyID).SetSecret(b).OnConflictColumns(trackingkey.FieldID).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("tracking key: %w", err)
		}
		k, err = client.TrackingKey.Get(ctx, keyID)
	}
	if err != nil {
		return nil, fmt.Errorf("tracking key: %w", err)
	}
	secrets.Store(client, k.Secret)
	return k.Secret, nil
}

func mac(secret []byte, impressionID pulid.ID) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(tokenPrefix))
	m.Write([]byte(impressionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Sign returns the click token of an impression.
func Sign(ctx context.Context, client *ent.Client, impressionID pulid.ID) (string, error) {
	s, err := secret(ctx, client)
	if err != nil {
		return "", err
	}
	return tokenPrefix + string(impressionID) + "." + mac(s, impressionID), nil
}

// Verify checks a click token and returns its impression's ID. A bad token
// is counted (RejectedTokens and the Prometheus counter) and returns ErrBadToken.
func Verify(ctx context.Context, client *ent.Client, token string) (pulid.ID, error) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	id, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || id == "" || len(id) > 64 {
		countRejected()
		return "", ErrBadToken
	}
	s, err := secret(ctx, client)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sig), []byte(mac(s, pulid.ID(id)))) {
		countRejected()
		return "", ErrBadToken
	}
	return pulid.ID(id), nil
}
