// Package social keeps the follow graph between fans and creators.
package social

import (
	"context"
	"fmt"
	"time"

	"github.com/limelight-hq/limelight/ent"
	"github.com/limelight-hq/limelight/ent/follow"
	"github.com/limelight-hq/limelight/ent/influencer"
	"github.com/limelight-hq/limelight/ent/schema/pulid"
	"github.com/limelight-hq/limelight/ent/user"
	"github.com/limelight-hq/limelight/internal/apperr"
	"github.com/limelight-hq/limelight/internal/store"
)

// Follow makes userID follow influencerID. Following twice is not an error:
// the existing follow is returned and the follower count is unchanged.
func Follow(ctx context.Context, client *ent.Client, userID, influencerID pulid.ID, now time.Time) (*ent.Follow, error) {
	var f *ent.Follow
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		if err := mustExist(ctx, tx, userID, influencerID); err != nil {
			return err
		}
		existing, err := tx.Follow.Query().
			Where(follow.UserID(userID), follow.InfluencerID(influencerID)).Only(ctx)
		if err == nil {
			f = existing
			return nil
		}
		if !ent.IsNotFound(err) {
			return err
		}
		f, err = tx.Follow.Create().SetUserID(userID).SetInfluencerID(influencerID).SetCreatedAt(now).Save(ctx)
		if err != nil {
			return err
		}
		return tx.Influencer.UpdateOneID(influencerID).AddFollowerCount(1).Exec(ctx)
	})
	if ent.IsConstraintError(err) {
		// A concurrent follow of the same pair won the race; it is the same follow.
		return client.Follow.Query().Where(follow.UserID(userID), follow.InfluencerID(influencerID)).Only(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("follow: %w", err)
	}
	// Re-read outside the committed transaction, so edges resolve.
	return client.Follow.Get(ctx, f.ID)
}

// Unfollow removes the follow, reporting whether there was one.
func Unfollow(ctx context.Context, client *ent.Client, userID, influencerID pulid.ID) (bool, error) {
	removed := false
	err := store.WithTx(ctx, client, func(tx *ent.Tx) error {
		if err := mustExist(ctx, tx, userID, influencerID); err != nil {
			return err
		}
		n, err := tx.Follow.Delete().Where(follow.UserID(userID), follow.InfluencerID(influencerID)).Exec(ctx)
		if err != nil || n == 0 {
			return err
		}
		removed = true
		return tx.Influencer.UpdateOneID(influencerID).AddFollowerCount(-1).Exec(ctx)
	})
	if err != nil {
		return false, fmt.Errorf("unfollow: %w", err)
	}
	return removed, nil
}

func mustExist(ctx context.Context, tx *ent.Tx, userID, influencerID pulid.ID) error {
	if ok, err := tx.User.Query().Where(user.ID(userID)).Exist(ctx); err != nil {
		return err
	} else if !ok {
		return apperr.Errorf(apperr.NotFound, "user %s not found", userID)
	}
	if ok, err := tx.Influencer.Query().Where(influencer.ID(influencerID)).Exist(ctx); err != nil {
		return err
	} else if !ok {
		return apperr.Errorf(apperr.NotFound, "influencer %s not found", influencerID)
	}
	return nil
}
