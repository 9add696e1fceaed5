package ease_test

import (
	"context"
	"errors"
	"testing"

	"github.com/limelight-hq/limelight/examples/ranker-template/ease"
	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/sdk/sdktest"
)

// The plugin contract: recommend, exclude, cold users, save/load, ...
func TestContract(t *testing.T) {
	sdktest.Run(t, func() sdk.Ranker { return ease.New() })
}

func TestRefusesLargeCatalogues(t *testing.T) {
	d := &sdk.Dataset{NumUsers: 1, NumItems: ease.MaxItems + 1, Users: []int32{0}, Items: []int32{0}, Weights: []float32{1}}
	_, err := ease.New().Train(context.Background(), d, nil)
	if !errors.Is(err, sdk.ErrBadInput) {
		t.Fatalf("training on %d items: err = %v, want ErrBadInput", d.NumItems, err)
	}
}

// Users {0,1}, {0,1}, {2} and {0}. With λ = 1, G = XᵀX + I is
// [[4,2,0],[2,3,0],[0,0,2]]; its top-left block inverts to
// (1/8)·[[3,-2],[-2,4]], so P01 = -1/4, P11 = 1/2 and B01 = -P01/P11 = 1/2,
// while B02 = 0 (items 0 and 2 never co-occur).
func TestClosedFormByHand(t *testing.T) {
	d := &sdk.Dataset{NumUsers: 4, NumItems: 3,
		Users:   []int32{0, 0, 1, 1, 2, 3},
		Items:   []int32{0, 1, 0, 1, 2, 0},
		Weights: []float32{1, 1, 1, 1, 1, 1}}
	r := ease.New()
	if _, err := r.Train(context.Background(), d, sdk.Params{"lambda": "1"}); err != nil {
		t.Fatal(err)
	}
	// User 3 has item 0 only: item 1 scores B01 = 1/2, item 2 scores B02 = 0.
	got, err := r.Recommend(context.Background(), sdk.Query{User: 3, K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Item != 1 || got[1].Item != 2 || got[0].Score < 0.49999 || got[0].Score > 0.50001 || got[1].Score != 0 {
		t.Fatalf("Recommend = %+v, want item 1 (1/2) then item 2 (0)", got)
	}
}
