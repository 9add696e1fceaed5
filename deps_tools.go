//go:build tools

package main

// Temporary: keeps chosen libraries in go.mod while packages using them are being written.
import (
	_ "github.com/alecthomas/kong"
	_ "github.com/bojanz/currency"
	_ "github.com/hashicorp/go-plugin"
	_ "github.com/lib/pq"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/vikstrous/dataloadgen"
	_ "golang.org/x/time/rate"
	_ "gonum.org/v1/gonum/mat"
	_ "google.golang.org/grpc"
	_ "modernc.org/sqlite"
	_ "pgregory.net/rapid"
)
