package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/content"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/activity"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Pipeline says how interactions become training data.
type Pipeline struct {
	// Weights is the training weight of each interaction kind; a kind with
	// weight 0 is left out.
	Weights map[interaction.Kind]float64
	// HalfLife is the age at which an interaction counts half.
	HalfLife time.Duration
	// Window bounds how far back training reads.
	Window time.Duration
	// RepeatWindow: a view of the same content by the same user within this
	// long of the previous counted view is noise and dropped.
	RepeatWindow time.Duration
	// BurstWindow and BurstMax: more than BurstMax events from one user
	// within BurstWindow is beyond a human rate; the excess is dropped.
	BurstWindow time.Duration
	BurstMax    int
}

// DefaultPipeline is what the server uses.
func DefaultPipeline() Pipeline {
	return Pipeline{
		Weights:      activity.DefaultWeights,
		HalfLife:     60 * 24 * time.Hour,
		Window:       365 * 24 * time.Hour,
		RepeatWindow: 30 * time.Minute,
		BurstWindow:  time.Minute,
		BurstMax:     60,
	}
}

// Mapping maps entity IDs to the dense indexes rankers speak. It only
// grows: an ID keeps its index forever, so a model trained on an older
// mapping is valid on a prefix of a newer one.
type Mapping struct {
	Users []pulid.ID `json:"users"`
	Items []pulid.ID `json:"items"`

	userIdx map[pulid.ID]int32
	itemIdx map[pulid.ID]int32
}

func (m *Mapping) index() {
	m.userIdx = make(map[pulid.ID]int32, len(m.Users))
	for i, id := range m.Users {
		if id != "" {
			m.userIdx[id] = int32(i)
		}
	}
	m.itemIdx = make(map[pulid.ID]int32, len(m.Items))
	for i, id := range m.Items {
		m.itemIdx[id] = int32(i)
	}
}

// User returns the index of a user, or -1.
func (m *Mapping) User(id pulid.ID) int32 {
	if i, ok := m.userIdx[id]; ok {
		return i
	}
	return -1
}

// Item returns the index of an item, or -1.
func (m *Mapping) Item(id pulid.ID) int32 {
	if i, ok := m.itemIdx[id]; ok {
		return i
	}
	return -1
}

// extend returns a copy of m with the given IDs appended where new.
func (m *Mapping) extend(users, items []pulid.ID) *Mapping {
	n := &Mapping{Users: slices.Clone(m.Users), Items: slices.Clone(m.Items)}
	n.index()
	for _, id := range users {
		if _, ok := n.userIdx[id]; !ok {
			n.userIdx[id] = int32(len(n.Users))
			n.Users = append(n.Users, id)
		}
	}
	for _, id := range items {
		if _, ok := n.itemIdx[id]; !ok {
			n.itemIdx[id] = int32(len(n.Items))
			n.Items = append(n.Items, id)
		}
	}
	return n
}

// forget blanks the IDs of users not in live, keeping their indexes, and
// returns how many were blanked.
func (m *Mapping) forget(live []pulid.ID) int {
	keep := make(map[pulid.ID]bool, len(live))
	for _, id := range live {
		keep[id] = true
	}
	n := 0
	for i, id := range m.Users {
		if id != "" && !keep[id] {
			delete(m.userIdx, id)
			m.Users[i] = ""
			n++
		}
	}
	return n
}

func (m *Mapping) encode() ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(m); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeMapping(b []byte) (*Mapping, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode mapping: %w", err)
	}
	m := &Mapping{}
	if err := json.NewDecoder(zr).Decode(m); err != nil {
		return nil, fmt.Errorf("decode mapping: %w", err)
	}
	m.index()
	return m, nil
}

type rawEvent struct {
	UserID     pulid.ID         `json:"user_id"`
	ContentID  pulid.ID         `json:"content_id"`
	Kind       interaction.Kind `json:"kind"`
	OccurredAt time.Time        `json:"occurred_at"`
}

// Build reads interactions and published content and returns a dataset in
// the index space of prev extended with new users and items. Dropped-noise
// counts are reported in stats.
func Build(ctx context.Context, client *ent.Client, p Pipeline, prev *Mapping, now time.Time) (*sdk.Dataset, *Mapping, BuildStats, error) {
	var st BuildStats
	var events []rawEvent
	err := client.Interaction.Query().
		Where(interaction.OccurredAtGTE(now.Add(-p.Window)), interaction.OccurredAtLTE(now)).
		Select(interaction.FieldUserID, interaction.FieldContentID, interaction.FieldKind, interaction.FieldOccurredAt).
		Scan(ctx, &events)
	if err != nil {
		return nil, nil, st, fmt.Errorf("read interactions: %w", err)
	}
	st.Read = len(events)
	contents, err := client.Content.Query().
		Where(content.StatusEQ(content.StatusPUBLISHED), content.PublishedAtLTE(now)).
		Select(content.FieldID, content.FieldTitle, content.FieldBody, content.FieldTags,
			content.FieldCategory, content.FieldLanguage, content.FieldPublishedAt).
		Order(ent.Asc(content.FieldID)).All(ctx)
	if err != nil {
		return nil, nil, st, fmt.Errorf("read content: %w", err)
	}
	kept := filterNoise(events, p, &st)

	userSet := map[pulid.ID]bool{}
	for _, e := range kept {
		userSet[e.UserID] = true
	}
	users := make([]pulid.ID, 0, len(userSet))
	for id := range userSet {
		users = append(users, id)
	}
	slices.Sort(users)
	items := make([]pulid.ID, len(contents))
	for i, c := range contents {
		items[i] = c.ID
	}
	if prev == nil {
		prev = &Mapping{}
		prev.index()
	}
	m := prev.extend(users, items)
	// Forgotten users keep their index (models stay aligned) but lose their
	// ID, so no new snapshot names them.
	live, err := client.User.Query().IDs(ctx)
	if err != nil {
		return nil, nil, st, fmt.Errorf("read users: %w", err)
	}
	st.Forgotten = m.forget(live)

	// One weight per (user, item): kinds weighted, decayed with age.
	pairs := NewPairs()
	for _, e := range kept {
		w := p.Weights[e.Kind]
		if w == 0 {
			continue
		}
		it := m.Item(e.ContentID)
		if it < 0 {
			continue // content no longer published
		}
		age := now.Sub(e.OccurredAt)
		pairs.Add(m.User(e.UserID), it, w*math.Exp2(-float64(age)/float64(p.HalfLife)), e.OccurredAt.Unix())
	}
	ds := pairs.Dataset(len(m.Users), len(m.Items), make([]sdk.ItemFeatures, len(m.Items)))
	for _, c := range contents {
		ds.Features[m.Item(c.ID)] = sdk.ItemFeatures{
			Category: c.Category, Tags: c.Tags, Title: c.Title, Body: c.Body,
			Language: c.Language, PublishedAt: c.PublishedAt.Unix(),
		}
	}
	st.Pairs = ds.Len()
	return ds, m, st, nil
}

// BuildStats counts what Build read and dropped.
type BuildStats struct {
	Read, Repeats, Bursts, Pairs int
	// Forgotten counts users in the mapping that no longer exist.
	Forgotten int
}

// filterNoise drops repeated views inside RepeatWindow and events beyond
// BurstMax per BurstWindow, per user, in time order.
func filterNoise(events []rawEvent, p Pipeline, st *BuildStats) []rawEvent {
	sort.SliceStable(events, func(a, b int) bool {
		if events[a].UserID != events[b].UserID {
			return events[a].UserID < events[b].UserID
		}
		return events[a].OccurredAt.Before(events[b].OccurredAt)
	})
	out := events[:0]
	var recent []time.Time // kept events of the current user inside BurstWindow
	lastView := map[pulid.ID]time.Time{}
	for i, e := range events {
		if i == 0 || e.UserID != events[i-1].UserID {
			recent = recent[:0]
			clear(lastView)
		}
		for len(recent) > 0 && e.OccurredAt.Sub(recent[0]) >= p.BurstWindow {
			recent = recent[1:]
		}
		if p.BurstMax > 0 && len(recent) >= p.BurstMax {
			st.Bursts++
			continue
		}
		if e.Kind == interaction.KindVIEW {
			if t, ok := lastView[e.ContentID]; ok && e.OccurredAt.Sub(t) < p.RepeatWindow {
				st.Repeats++
				continue
			}
			lastView[e.ContentID] = e.OccurredAt
		}
		recent = append(recent, e.OccurredAt)
		out = append(out, e)
	}
	return out
}
