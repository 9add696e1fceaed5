package sdk

import (
	"fmt"
	"math"
)

// Dataset is what a ranker trains on. Interactions are parallel slices of
// equal length: interaction j is user Users[j] on item Items[j] with weight
// Weights[j] at Unix second Times[j]. The same pair may occur many times.
type Dataset struct {
	// NumUsers is the number of users; user indexes are 0..NumUsers-1.
	NumUsers int
	// NumItems is the number of items; item indexes are 0..NumItems-1.
	NumItems int
	// Users holds the user index of each interaction.
	Users []int32
	// Items holds the item index of each interaction.
	Items []int32
	// Weights holds each interaction's weight: positive for engagement,
	// negative for skips and dislikes, never zero, NaN or infinite.
	Weights []float32
	// Times holds each interaction's Unix time in seconds; it is either as
	// long as Users or empty.
	Times []int64
	// Features holds one entry per item, or none when the host left item
	// features out (see Need).
	Features []ItemFeatures
}

// ItemFeatures describes one item's content.
type ItemFeatures struct {
	// Category is a coarse topic such as "fitness" or "gaming".
	Category string
	// Tags are the creator's hashtags and labels.
	Tags []string
	// Title and Body are the item's text.
	Title, Body string
	// Language is a BCP 47 tag such as "en" or "ja".
	Language string
	// PublishedAt is the publication time in Unix seconds.
	PublishedAt int64
}

// Len returns the number of interactions.
func (d *Dataset) Len() int { return len(d.Users) }

// MaxTime returns the newest interaction time, or ok false when there are
// no times.
func (d *Dataset) MaxTime() (t int64, ok bool) {
	for i, x := range d.Times {
		if i == 0 || x > t {
			t = x
		}
	}
	return t, len(d.Times) > 0
}

// Validate reports, wrapped in ErrBadInput, the first way d breaks the rules
// documented on its fields.
func (d *Dataset) Validate() error {
	if d.NumUsers < 0 || d.NumItems < 0 || d.NumUsers > math.MaxInt32 || d.NumItems > math.MaxInt32 {
		return fmt.Errorf("%w: dataset has %d users and %d items", ErrBadInput, d.NumUsers, d.NumItems)
	}
	n := len(d.Users)
	if len(d.Items) != n || len(d.Weights) != n || (len(d.Times) != n && len(d.Times) != 0) {
		return fmt.Errorf("%w: interaction slices differ in length: users %d, items %d, weights %d, times %d",
			ErrBadInput, n, len(d.Items), len(d.Weights), len(d.Times))
	}
	if len(d.Features) != 0 && len(d.Features) != d.NumItems {
		return fmt.Errorf("%w: %d item features for %d items", ErrBadInput, len(d.Features), d.NumItems)
	}
	for j := range n {
		if u := d.Users[j]; u < 0 || int(u) >= d.NumUsers {
			return fmt.Errorf("%w: interaction %d: user %d out of range [0,%d)", ErrBadInput, j, u, d.NumUsers)
		}
		if i := d.Items[j]; i < 0 || int(i) >= d.NumItems {
			return fmt.Errorf("%w: interaction %d: item %d out of range [0,%d)", ErrBadInput, j, i, d.NumItems)
		}
		if w := float64(d.Weights[j]); w == 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("%w: interaction %d: weight %v", ErrBadInput, j, w)
		}
	}
	return nil
}
