package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/auth"
	"github.com/limelight-hq/limelight/internal/store"
	"github.com/limelight-hq/limelight/internal/store/storetest"
)

func TestKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := st.Client
		secret, err := auth.Bootstrap(ctx, c)
		if err != nil || !auth.Wellformed(secret) {
			t.Fatalf("bootstrap: %q %v", secret, err)
		}
		if again, err := auth.Bootstrap(ctx, c); err != nil || again != "" {
			t.Fatalf("second bootstrap made a key: %q %v", again, err)
		}
		p, err := auth.Authenticate(ctx, c, secret)
		if err != nil || p.Role != auth.Admin {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		// The secret is nowhere in the table.
		var n int
		st.DB.QueryRow(`SELECT count(*) FROM api_keys WHERE hash = $1 OR label = $1 OR owner_id = $1`, secret).Scan(&n)
		if n != 0 {
			t.Fatal("secret stored in clear")
		}
		inf := c.Influencer.Create().SetHandle("chef").SaveX(ctx)
		k, s2, err := auth.Create(ctx, c, auth.Influencer, inf.ID, "chef's key")
		if err != nil {
			t.Fatal(err)
		}
		if p, _ := auth.Authenticate(ctx, c, s2); p == nil || !p.Owns(inf.ID) || p.Owns("IN01JAAAAAAAAAAAAAAAAAAAAAAA") {
			t.Fatalf("influencer principal %+v", p)
		}
		for _, bad := range []struct {
			role  auth.Role
			owner pulid.ID
			code  apperr.Code
		}{
			{auth.Partner, "", apperr.BadInput},
			{auth.Partner, "PA01JAAAAAAAAAAAAAAAAAAAAAAA", apperr.NotFound},
			{auth.Influencer, "IN01JAAAAAAAAAAAAAAAAAAAAAAA", apperr.NotFound},
			{auth.App, inf.ID, apperr.BadInput},
			{"ROOT", "", apperr.BadInput},
		} {
			if _, _, err := auth.Create(ctx, c, bad.role, bad.owner, ""); apperr.CodeOf(err) != bad.code {
				t.Errorf("Create(%s, %q) = %v, want %s", bad.role, bad.owner, err, bad.code)
			}
		}
		if _, err := auth.Revoke(ctx, c, k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := auth.Revoke(ctx, c, k.ID, time.Now()); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		for _, s := range []string{s2, "", "ll_short", strings.Replace(secret, "ll_", "xx_", 1), auth.Prefix + strings.Repeat("A", 43)} {
			if _, err := auth.Authenticate(ctx, c, s); apperr.CodeOf(err) != apperr.Unauthorized {
				t.Errorf("Authenticate(%q) = %v", s, err)
			}
		}
	})
}
