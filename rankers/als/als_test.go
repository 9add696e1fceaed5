package als_test

import (
	"testing"

	"github.com/limelight-hq/limelight/rankers/als"
	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/sdk/sdktest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	sdktest.RunWith(t, func() sdk.Ranker { return als.New() }, sdktest.Options{Params: sdk.Params{"factors": "8"}})
}
