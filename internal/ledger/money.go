package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/bojanz/currency"

	"github.com/limelight-hq/limelight/internal/apperr"
)

// MaxKeyLen bounds a client's idempotency key. Services prefix keys with the
// operation ("tip:", "conv:") so the stored key stays within the column's 200.
const MaxKeyLen = 128

// CheckCurrency accepts an ISO 4217 code (upper case) with known minor-unit digits.
func CheckCurrency(code string) error {
	if !currency.IsValid(code) || strings.ToUpper(code) != code {
		return apperr.Errorf(apperr.BadInput, "unknown currency %q (use an ISO 4217 code such as USD)", code)
	}
	if _, ok := currency.GetDigits(code); !ok {
		return apperr.Errorf(apperr.BadInput, "currency %q has no minor unit", code)
	}
	return nil
}

// Digits is the number of minor-unit digits of a valid currency (2 for USD, 0 for JPY).
func Digits(code string) int {
	d, ok := currency.GetDigits(code)
	if !ok || d == currency.DefaultDigits {
		return 2
	}
	return int(d)
}

// MajorToMinor converts whole major units (dollars) to minor units (cents),
// saturating at math.MaxInt64.
func MajorToMinor(major int64, code string) int64 {
	v := major
	for range Digits(code) {
		if v > math.MaxInt64/10 {
			return math.MaxInt64
		}
		v *= 10
	}
	return v
}

// CheckKey validates a client's idempotency key.
func CheckKey(key string) error {
	if strings.TrimSpace(key) == "" {
		return apperr.Errorf(apperr.BadInput, "idempotencyKey is required")
	}
	if len(key) > MaxKeyLen {
		return apperr.Errorf(apperr.BadInput, "idempotencyKey is longer than %d characters", MaxKeyLen)
	}
	return nil
}

// Add returns a+b, or an error if the sum overflows int64.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, apperr.Errorf(apperr.BadInput, "amount overflows")
	}
	return s, nil
}

// Share returns amount × bps / 10000 rounded down, exactly (no intermediate
// overflow), for amount ≥ 0 and 0 ≤ bps ≤ 10000.
func Share(amount int64, bps int) int64 {
	if amount <= 0 || bps <= 0 {
		return 0
	}
	if bps >= 10000 {
		return amount
	}
	return MulDiv(amount, int64(bps), 10000)
}

// MulDiv returns a × b / c rounded down for non-negative a, b and positive c,
// computed in 128 bits. The result must fit in int64; callers guarantee it by
// b ≤ c, or get math.MaxInt64.
func MulDiv(a, b, c int64) int64 {
	if a <= 0 || b <= 0 || c <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// Hash fingerprints a request's parameters, to tell a replay of an
// idempotency key from a conflicting reuse of it.
func Hash(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%v\x00", p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
