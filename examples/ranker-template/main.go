// Command ease is a Limelight ranker plugin: EASE (Steck 2019), a
// closed-form item-item model. Build it, put the binary in the server's
// rankers directory and list it with its SHA-256 in rankers.json; see
// README.md.
package main

import (
	"github.com/limelight-hq/limelight/examples/ranker-template/ease"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

func main() { sdk.Serve(ease.New()) }
