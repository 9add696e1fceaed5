// Package feed turns interactions into training data for ranker plugins,
// trains and stores their models, and serves personalised, stable, paged
// feeds from them.
package feed

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/rankermodel"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/rankers/host"
	"github.com/limelight-hq/limelight/rankers/popular"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// Config configures a Service.
type Config struct {
	// Pipeline turns interactions into training data.
	Pipeline Pipeline
	// Params holds hyperparameters per ranker name.
	Params map[string]sdk.Params
	// Default is the ranker a feed uses when none is asked for.
	Default string
	// HistoryLimit is how many recent interactions go with a request, for
	// fold-in of new users and to exclude what was consumed since training.
	HistoryLimit int
	// MaxDepth is the deepest position a feed pages to.
	MaxDepth int
	// KeepModels is how many snapshots per ranker are kept in the database.
	KeepModels int
	// Logger receives training logs.
	Logger *slog.Logger
}

// DefaultConfig is what the server uses.
func DefaultConfig() Config {
	return Config{Pipeline: DefaultPipeline(), Default: "als", HistoryLimit: 100, MaxDepth: 500, KeepModels: 3}
}

// model is what the service knows of one ranker's current model.
type model struct {
	version      string
	trainedAt    time.Time
	numUsers     int
	numItems     int
	interactions int
	metrics      map[string]float64
	rowID        string
}

// Service serves feeds from ranker plugins.
type Service struct {
	client *ent.Client
	db     *sql.DB
	pg     bool
	host   *host.Host
	cfg    Config
	log    *slog.Logger

	mu      sync.RWMutex
	mapping *Mapping
	models  map[string]*model

	trainMu sync.Mutex
	cache   *contentCache

	// seen fingerprints the data of the last training, for Changed.
	seen fingerprint
}

// fingerprint is cheap to read and changes when training data would.
type fingerprint struct {
	lastInteraction string
	contents, users int
}

func (s *Service) fingerprint(ctx context.Context) (fingerprint, error) {
	var f fingerprint
	last, err := s.client.Interaction.Query().Order(ent.Desc(interaction.FieldID)).FirstID(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return f, err
	}
	f.lastInteraction = string(last)
	if f.contents, err = s.client.Content.Query().Count(ctx); err != nil {
		return f, err
	}
	f.users, err = s.client.User.Query().Count(ctx)
	return f, err
}

// Changed reports whether interactions, content or users changed since this
// service last trained, so scheduled retraining can skip idle periods.
func (s *Service) Changed(ctx context.Context) (bool, error) {
	f, err := s.fingerprint(ctx)
	if err != nil {
		return true, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return f != s.seen, nil
}

// New returns a service over the store and the ranker host. db and
// postgres let training take a PostgreSQL advisory lock so that one replica
// trains at a time.
func New(client *ent.Client, db *sql.DB, postgres bool, h *host.Host, cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Mapping{}
	m.index()
	return &Service{client: client, db: db, pg: postgres, host: h, cfg: cfg, log: cfg.Logger,
		mapping: m, models: map[string]*model{}, cache: newContentCache(5*time.Second, 100_000)}
}

// Host returns the ranker host.
func (s *Service) Host() *host.Host { return s.host }

// TrainReport describes a finished training.
type TrainReport struct {
	Ranker       string
	ModelVersion string
	Duration     time.Duration
	Interactions int
	Users, Items int
	Metrics      map[string]float64
	TrainedAt    time.Time
}

// ErrTrainingBusy means another training holds the lock.
var ErrTrainingBusy = errors.New("training already running")

// Train trains the named ranker on the current interactions, stores its
// snapshot and starts serving it. The fallback ranker is retrained on the
// same data too, so it always covers the newest users and items.
func (s *Service) Train(ctx context.Context, name string, now time.Time) (*TrainReport, error) {
	reps, err := s.TrainAll(ctx, []string{name}, now)
	if err != nil {
		return nil, err
	}
	return reps[0], nil
}

// TrainAll trains the named rankers on one build of the training data and
// stores their snapshots; the fallback ranker is retrained with them if it
// is not among them. Reports come back in the order of names.
func (s *Service) TrainAll(ctx context.Context, names []string, now time.Time) ([]*TrainReport, error) {
	if len(names) == 0 {
		return nil, apperr.Errorf(apperr.BadInput, "no ranker named")
	}
	for _, name := range names {
		st, ok := s.status(name)
		if !ok {
			return nil, apperr.Errorf(apperr.NotFound, "no ranker named %q", name)
		}
		if st.State == host.StateRefused || st.State == host.StateFailed {
			return nil, apperr.Errorf(apperr.Conflict, "ranker %s is %s and cannot train: %s", name, st.State, st.LastError)
		}
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another replica may have trained meanwhile; start from its mapping.
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	prev := s.mapping
	s.mu.RUnlock()
	fp, err := s.fingerprint(ctx)
	if err != nil {
		return nil, err
	}
	ds, m, st, err := Build(ctx, s.client, s.cfg.Pipeline, prev, now)
	if err != nil {
		return nil, err
	}
	s.log.Info("training data built", "rankers", names, "read", st.Read, "repeats_dropped", st.Repeats,
		"bursts_dropped", st.Bursts, "forgotten_users", st.Forgotten, "pairs", st.Pairs, "users", ds.NumUsers, "items", ds.NumItems)
	all := slices.Clone(names)
	if !slices.Contains(all, popular.Name) && s.known(popular.Name) {
		all = append(all, popular.Name)
	}
	reps := make([]*TrainReport, 0, len(all))
	for _, n := range all {
		rep, err := s.trainOne(ctx, n, ds, m, now)
		if err != nil {
			return nil, err
		}
		reps = append(reps, rep)
	}
	s.mu.Lock()
	s.seen = fp
	s.mu.Unlock()
	return reps[:len(names)], nil
}

func (s *Service) trainOne(ctx context.Context, name string, ds *sdk.Dataset, m *Mapping, now time.Time) (*TrainReport, error) {
	rep, err := s.host.Train(ctx, name, ds, s.cfg.Params[name])
	if err != nil {
		return nil, trainErr(name, err)
	}
	snap, err := s.host.Export(ctx, name)
	if err != nil {
		return nil, trainErr(name, err)
	}
	mb, err := m.encode()
	if err != nil {
		return nil, err
	}
	row, err := s.client.RankerModel.Create().SetRanker(name).SetVersion(rep.ModelVersion).
		SetSnapshot(snap).SetMapping(mb).SetMetrics(rep.Metrics).SetParams(map[string]string(s.cfg.Params[name])).SetInteractions(ds.Len()).
		SetTrainedAt(now.UTC()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("store %s model: %w", name, err)
	}
	s.prune(ctx, name)
	s.mu.Lock()
	if len(m.Items) >= len(s.mapping.Items) && len(m.Users) >= len(s.mapping.Users) {
		s.mapping = m
	}
	s.models[name] = &model{version: rep.ModelVersion, trainedAt: row.TrainedAt, numUsers: ds.NumUsers,
		numItems: ds.NumItems, interactions: ds.Len(), metrics: rep.Metrics, rowID: string(row.ID)}
	s.mu.Unlock()
	s.log.Info("trained", "ranker", name, "version", rep.ModelVersion, "took", rep.Duration.Round(time.Millisecond),
		"snapshot_bytes", len(snap))
	return &TrainReport{Ranker: name, ModelVersion: rep.ModelVersion, Duration: rep.Duration,
		Interactions: ds.Len(), Users: ds.NumUsers, Items: ds.NumItems, Metrics: rep.Metrics, TrainedAt: row.TrainedAt}, nil
}

func trainErr(name string, err error) error {
	if errors.Is(err, sdk.ErrBadInput) {
		return apperr.Wrap(apperr.BadInput, err, fmt.Sprintf("ranker %s rejected the training data", name))
	}
	return apperr.Wrap(apperr.Unavailable, err, fmt.Sprintf("training %s failed", name))
}

// prune deletes all but the newest KeepModels snapshots of a ranker.
func (s *Service) prune(ctx context.Context, name string) {
	old, err := s.client.RankerModel.Query().Where(rankermodel.Ranker(name)).
		Order(ent.Desc(rankermodel.FieldTrainedAt), ent.Desc(rankermodel.FieldID)).
		Offset(s.cfg.KeepModels).IDs(ctx)
	if err == nil && len(old) > 0 {
		_, err = s.client.RankerModel.Delete().Where(rankermodel.IDIn(old...)).Exec(ctx)
	}
	if err != nil {
		s.log.Warn("pruning old models", "ranker", name, "err", err)
	}
}

// lock takes the training lock: in-process, and on PostgreSQL an advisory
// lock so that one replica trains at a time.
func (s *Service) lock(ctx context.Context) (func(), error) {
	if !s.trainMu.TryLock() {
		return nil, apperr.Wrap(apperr.Conflict, ErrTrainingBusy, "a training is already running")
	}
	if !s.pg {
		return s.trainMu.Unlock, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		s.trainMu.Unlock()
		return nil, err
	}
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		conn.Close()
		s.trainMu.Unlock()
		return nil, err
	}
	key := TrainLockKey(schema)
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Close()
		s.trainMu.Unlock()
		if err != nil {
			return nil, err
		}
		return nil, apperr.Wrap(apperr.Conflict, ErrTrainingBusy, "another replica is training")
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)
		conn.Close()
		s.trainMu.Unlock()
	}, nil
}

// TrainLockKey is the PostgreSQL advisory lock key that training holds for
// a schema: replicas sharing a schema train one at a time; deployments in
// other schemas of the same database do not block each other.
func TrainLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("limelight/train/" + schema))
	return int64(h.Sum64())
}

// Refresh imports, for every ranker, the newest stored snapshot if it is not
// the one being served: at start, and to pick up another replica's training.
// It returns the names of rankers that have no stored model.
func (s *Service) Refresh(ctx context.Context) error {
	_, err := s.refresh(ctx)
	return err
}

// Load is Refresh at start: it reports which rankers have no stored model.
func (s *Service) Load(ctx context.Context) (missing []string, err error) {
	return s.refresh(ctx)
}

func (s *Service) refresh(ctx context.Context) ([]string, error) {
	var missing []string
	for _, st := range s.host.Rankers() {
		if st.State == host.StateRefused || st.State == host.StateFailed {
			continue
		}
		row, err := s.client.RankerModel.Query().Where(rankermodel.Ranker(st.Name)).
			Order(ent.Desc(rankermodel.FieldTrainedAt), ent.Desc(rankermodel.FieldID)).First(ctx)
		if ent.IsNotFound(err) {
			missing = append(missing, st.Name)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s model: %w", st.Name, err)
		}
		s.mu.RLock()
		cur := s.models[st.Name]
		s.mu.RUnlock()
		if cur != nil && cur.rowID == string(row.ID) {
			continue
		}
		m, err := decodeMapping(row.Mapping)
		if err != nil {
			return nil, err
		}
		if err := s.host.Import(ctx, st.Name, row.Snapshot); err != nil {
			s.log.Warn("importing model failed; will retrain", "ranker", st.Name, "err", err)
			missing = append(missing, st.Name)
			continue
		}
		s.mu.Lock()
		if len(m.Items) >= len(s.mapping.Items) && len(m.Users) >= len(s.mapping.Users) {
			s.mapping = m
		}
		s.models[st.Name] = &model{version: row.Version, trainedAt: row.TrainedAt, numUsers: len(m.Users),
			numItems: len(m.Items), interactions: row.Interactions, metrics: row.Metrics, rowID: string(row.ID)}
		s.mu.Unlock()
		s.log.Info("loaded model", "ranker", st.Name, "version", row.Version, "trained_at", row.TrainedAt)
		switch {
		case row.Interactions == 0:
			missing = append(missing, st.Name) // trained on nothing: worth another try
		case !sameParams(s.cfg.Params[st.Name], row.Params):
			s.log.Warn("stored model was trained with other hyperparameters than configured", "ranker", st.Name,
				"configured", s.cfg.Params[st.Name], "model", row.Params)
			missing = append(missing, st.Name)
		}
	}
	return missing, nil
}

// status returns the host's status of the named ranker.
func (s *Service) status(name string) (host.Status, bool) {
	for _, st := range s.host.Rankers() {
		if st.Name == name {
			return st, true
		}
	}
	return host.Status{}, false
}

// Running reports whether the named ranker's process is up (for callers
// that must not rely on a fallback, like experiments).
func (s *Service) Running(name string) bool {
	st, ok := s.status(name)
	return ok && st.State == host.StateRunning
}

// known reports whether the host has a ranker of that name.
func (s *Service) known(name string) bool {
	for _, st := range s.host.Rankers() {
		if st.Name == name {
			return true
		}
	}
	return false
}

// RankerInfo is a ranker's status and its current model.
type RankerInfo struct {
	host.Status
	ModelVersion string
	TrainedAt    *time.Time
	Interactions int
	Metrics      map[string]float64
	// Params are the configured hyperparameters (the rest take defaults).
	Params sdk.Params
}

// Rankers lists the rankers with their models.
func (s *Service) Rankers() []RankerInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []RankerInfo
	for _, st := range s.host.Rankers() {
		ri := RankerInfo{Status: st, ModelVersion: st.ModelVersion, Params: s.cfg.Params[st.Name]}
		if m := s.models[st.Name]; m != nil {
			t := m.trainedAt
			ri.TrainedAt, ri.Interactions, ri.Metrics, ri.ModelVersion = &t, m.interactions, m.metrics, m.version
		}
		out = append(out, ri)
	}
	return out
}

// cursor is the opaque position in a feed: which model ranked it, as of
// when, and how far in. Continuing from it reproduces the same ranking.
type cursor struct {
	Ranker  string `json:"r"`
	Version string `json:"v"`
	AsOf    int64  `json:"t"`
	Offset  int    `json:"o"`
	// User, Surface and Consumed tie the cursor to one feed.
	User     string `json:"u"`
	Surface  string `json:"s,omitempty"`
	Consumed bool   `json:"c,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Offset < 0 {
		return c, apperr.Errorf(apperr.BadInput, "malformed cursor")
	}
	return c, nil
}

// sameParams reports whether a model trained with had the configured values
// (parameters not configured take the ranker's defaults either way).
func sameParams(configured sdk.Params, had map[string]string) bool {
	for k, v := range configured {
		if had[k] != v {
			return false
		}
	}
	return true
}

// Params returns the hyperparameters configured for a ranker.
func (s *Service) Params(name string) sdk.Params { return s.cfg.Params[name] }
