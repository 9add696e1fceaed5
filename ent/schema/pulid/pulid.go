// Package pulid implements prefixed ULIDs: opaque, globally unique IDs whose
// first two characters name the entity type, so a Relay node lookup knows
// which table to read without leaking row counts.
package pulid

import (
	"crypto/rand"
	"database/sql/driver"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// ID is a prefixed ULID, e.g. "US01J9Z3...".
type ID string

// Len is the length of every well-formed ID: a two-letter prefix and a ULID.
const Len = 2 + ulid.EncodedSize

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// MustNew returns a new ID with the given two-letter prefix.
func MustNew(prefix string) ID {
	mu.Lock()
	defer mu.Unlock()
	return ID(prefix + ulid.MustNew(ulid.Timestamp(time.Now()), entropy).String())
}

// Prefix returns the type prefix of the ID, or "" if it is malformed.
func (u ID) Prefix() string {
	if !u.Valid() {
		return ""
	}
	return string(u[:2])
}

// Valid reports whether the ID has the shape of a prefixed ULID.
func (u ID) Valid() bool {
	if len(u) != Len {
		return false
	}
	_, err := ulid.ParseStrict(string(u[2:]))
	return err == nil
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (u *ID) UnmarshalGQL(v any) error {
	switch s := v.(type) {
	case string:
		*u = ID(s)
	case ID:
		*u = s
	default:
		return fmt.Errorf("id must be a string")
	}
	return nil
}

// MarshalGQL implements graphql.Marshaler.
func (u ID) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(u))) }

// Scan implements sql.Scanner.
func (u *ID) Scan(src any) error {
	switch s := src.(type) {
	case string:
		*u = ID(s)
	case []byte:
		*u = ID(s)
	case nil:
		// Optional ID columns (e.g. a forgotten fan's user_id) are NULL.
		*u = ""
	default:
		return fmt.Errorf("pulid: unexpected type %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (u ID) Value() (driver.Value, error) { return string(u), nil }
