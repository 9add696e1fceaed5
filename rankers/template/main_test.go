package main

import (
	"testing"

	"github.com/limelight-hq/limelight/rankers/sdk"
	"github.com/limelight-hq/limelight/rankers/sdk/sdktest"
)

func TestContract(t *testing.T) {
	t.Parallel()
	sdktest.Run(t, func() sdk.Ranker { return &newest{} })
}
