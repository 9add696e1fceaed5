// Package store opens Limelight's database: embedded SQLite by default,
// PostgreSQL when given a postgres:// URL. It creates or migrates the schema.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"path/filepath"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // SQLite driver (pure Go)

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/internal/stats"
)

// DefaultSQLite is the database used when none is configured.
const DefaultSQLite = "limelight.db"

// Store is an open database with its ent client.
type Store struct {
	// Client is the ent client over the database.
	Client *ent.Client
	// DB is the underlying connection pool.
	DB *sql.DB
	// Dialect is dialect.SQLite or dialect.Postgres.
	Dialect string
}

// Open connects to the database named by dsn and migrates its schema.
// dsn is a postgres:// URL, a sqlite file path (optionally "file:" or
// "sqlite://" prefixed), or "" for DefaultSQLite.
func Open(ctx context.Context, dsn string) (*Store, error) {
	drv, dia, db, err := openDriver(dsn)
	if err != nil {
		return nil, err
	}
	client := ent.NewClient(ent.Driver(drv))
	if dia == dialect.Postgres {
		// Replicas starting together must not migrate at the same time.
		unlock, err := migrationLock(ctx, db)
		if err != nil {
			db.Close()
			return nil, err
		}
		defer unlock()
	}
	// Campaign stats read a rollup the hook keeps in step with every ad event.
	stats.Register(client)
	if err := client.Schema.Create(ctx, schema.WithDropIndex(true), schema.WithDropColumn(false)); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate schema: %w", err)
	}
	return &Store{Client: client, DB: db, Dialect: dia}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.Client.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

func openDriver(dsn string) (*entsql.Driver, string, *sql.DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			return nil, "", nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(32)
		if err := db.Ping(); err != nil {
			db.Close()
			return nil, "", nil, fmt.Errorf("connect postgres: %w", err)
		}
		return entsql.OpenDB(dialect.Postgres, db), dialect.Postgres, db, nil
	default:
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			path = DefaultSQLite
		}
		if strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite://") {
			return nil, "", nil, errors.New("database must be a postgres:// URL or a SQLite file path")
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, "", nil, err
		}
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+abs+"?"+q.Encode())
		if err != nil {
			return nil, "", nil, fmt.Errorf("open sqlite: %w", err)
		}
		// SQLite allows one writer; immediate transactions plus the busy
		// timeout serialise writers instead of failing them.
		db.SetMaxOpenConns(8)
		if err := db.Ping(); err != nil {
			db.Close()
			return nil, "", nil, fmt.Errorf("open sqlite %s: %w", abs, err)
		}
		return entsql.OpenDB(dialect.SQLite, db), dialect.SQLite, db, nil
	}
}

// migrationLockKey is the PostgreSQL advisory lock held while migrating.
const migrationLockKey = 0x6c696d656c696768 // "limeligh"

func migrationLock(ctx context.Context, db *sql.DB) (func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey))
		conn.Close()
	}, nil
}

// Exclusive runs fn while holding a lock named name that other processes on
// the same PostgreSQL schema also take (a session advisory lock), so that
// replicas starting together do one-time work once. On SQLite it just runs
// fn: one server owns the file.
func (s *Store) Exclusive(ctx context.Context, name string, fn func() error) error {
	if s.Dialect != dialect.Postgres {
		return fn()
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.Close()
	var schema string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	h := fnv.New64a()
	h.Write([]byte("limelight/" + name + "/" + schema))
	key := int64(h.Sum64())
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", key)
	return fn()
}
