// Package rankerpb holds the generated Go code for the ranker plugin contract
// (ranker.proto). Only rankers/sdk should import it; rankers and the host use
// the plain Go types of the SDK.
package rankerpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative ranker.proto
