// Package privacy erases a fan on request ("forget me"). The fan's
// personal data, interactions and follows are deleted; money records stay,
// because the books must balance, but lose every link to the person: tips
// and conversions keep their amounts without the user, and the fan's ledger
// accounts are handed to a fresh anonymous owner ID. Models stop reflecting
// the fan at their next training, since training reads interactions only.
package privacy

import (
	"context"
	"fmt"
	"sync"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/adevent"
	"github.com/limelight-hq/limelight/ent/conversion"
	"github.com/limelight-hq/limelight/ent/follow"
	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/ent/ledgeraccount"
	"github.com/limelight-hq/limelight/ent/linkclick"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/tip"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/store"
)

// AnonymousPrefix starts the owner ID of a forgotten fan's ledger accounts.
const AnonymousPrefix = "anon_"

// Result says what Forget erased.
type Result struct {
	Interactions int
	Follows      int
	// AnonymousOwner is the owner ID the fan's ledger accounts now carry,
	// empty if the fan had none.
	AnonymousOwner string
}

// ForgetHook erases data another package keeps about a user, inside the
// transaction of Forget.
type ForgetHook func(ctx context.Context, tx *ent.Tx, userID pulid.ID) error

var (
	hooksMu sync.Mutex
	hooks   []ForgetHook
)

// OnForget registers h to run in every Forget transaction, for packages
// that store per-user data this package does not know about.
func OnForget(h ForgetHook) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	hooks = append(hooks, h)
}

// Forget erases user userID in one transaction: deletes their interactions,
// follows (creators' follower counts go down) and the user row itself,
// strips the user from tips (and their messages), conversions, ad events
// and link clicks, and re-owns their FAN ledger accounts with a new anonymous ID.
// An unknown user is NOT_FOUND; so is a second Forget of the same user.
func Forget(ctx context.Context, client *ent.Client, userID pulid.ID) (Result, error) {
	var res Result
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		if _, err := tx.User.Get(ctx, userID); err != nil {
			if ent.IsNotFound(err) {
				return apperr.Errorf(apperr.NotFound, "user %s not found", userID)
			}
			return fmt.Errorf("load user: %w", err)
		}
		n, err := tx.Interaction.Delete().Where(interaction.UserID(userID)).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete interactions: %w", err)
		}
		res.Interactions = n
		follows, err := tx.Follow.Query().Where(follow.UserID(userID)).All(ctx)
		if err != nil {
			return fmt.Errorf("load follows: %w", err)
		}
		for _, f := range follows {
			if err := tx.Influencer.UpdateOneID(f.InfluencerID).AddFollowerCount(-1).Exec(ctx); err != nil {
				return fmt.Errorf("decrement followers: %w", err)
			}
		}
		if res.Follows, err = tx.Follow.Delete().Where(follow.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("delete follows: %w", err)
		}
		if _, err := tx.Tip.Update().Where(tip.UserID(userID)).ClearUserID().SetMessage("").Save(ctx); err != nil {
			return fmt.Errorf("anonymise tips: %w", err)
		}
		if _, err := tx.Conversion.Update().Where(conversion.UserID(userID)).ClearUserID().Save(ctx); err != nil {
			return fmt.Errorf("anonymise conversions: %w", err)
		}
		if _, err := tx.AdEvent.Update().Where(adevent.UserID(userID)).ClearUserID().Save(ctx); err != nil {
			return fmt.Errorf("anonymise ad events: %w", err)
		}
		if _, err := tx.LinkClick.Update().Where(linkclick.UserID(userID)).ClearUserID().Save(ctx); err != nil {
			return fmt.Errorf("anonymise link clicks: %w", err)
		}
		anon := AnonymousPrefix + string(pulid.MustNew("US"))[2:]
		n, err = tx.LedgerAccount.Update().
			Where(ledgeraccount.OwnerTypeEQ(ledgeraccount.OwnerTypeFAN), ledgeraccount.OwnerID(string(userID))).
			SetOwnerID(anon).Save(ctx)
		if err != nil {
			return fmt.Errorf("anonymise ledger accounts: %w", err)
		}
		if n > 0 {
			res.AnonymousOwner = anon
		}
		hooksMu.Lock()
		hs := append([]ForgetHook(nil), hooks...)
		hooksMu.Unlock()
		for _, h := range hs {
			if err := h(ctx, tx, userID); err != nil {
				return fmt.Errorf("forget hook: %w", err)
			}
		}
		if err := tx.User.DeleteOneID(userID).Exec(ctx); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return nil
	})
	return res, err
}
