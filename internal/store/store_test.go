package store_test

import (
	"context"
	"database/sql"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

// Replicas starting at once on an empty PostgreSQL all migrate successfully.
func TestConcurrentMigrations(t *testing.T) {
	base := storetest.Postgres(t) // skips (or fails when required) without PostgreSQL
	var schema string
	if err := base.DB.QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	// A second, empty schema for the replicas to race on.
	fresh := schema + "_race"
	if _, err := base.DB.Exec("CREATE SCHEMA " + fresh); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.DB.Exec("DROP SCHEMA " + fresh + " CASCADE") })
	u, _ := url.Parse(storetest.PostgresURL())
	q := u.Query()
	q.Set("search_path", fresh)
	u.RawQuery = q.Encode()
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := store.Open(context.Background(), u.String())
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent start: %v", err)
		}
	}
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatalf("schema not created: %v", err)
	}
}

// Exclusive runs one holder at a time across connections (processes) on
// PostgreSQL, so first-start work happens once.
func TestExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := st.Exclusive(context.Background(), "test", func() error {
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(20 * time.Millisecond) // hold it long enough for others to try
					inside.Add(-1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if st.Dialect == "postgres" && most.Load() != 1 {
			t.Fatalf("%d holders at once", most.Load())
		}
	})
}
