package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/limelight-hq/limelight/internal/ingest"
)

// ImportCmd imports interactions from a file into the database.
type ImportCmd struct {
	File       string  `arg:"" type:"existingfile" help:"MovieLens u.data (tab-separated user item rating timestamp) or a CSV/TSV with a header (user, item, kind or rating, timestamp; optional tags, title)."`
	Format     string  `name:"format" enum:",movielens,csv" default:"" help:"File layout (default: guessed from the first line)."`
	Source     string  `name:"source" help:"Short name of the dataset: users become <source>_<id>, external IDs <source>:<id> (default: ml for MovieLens, csv otherwise)."`
	SkipBad    bool    `name:"skip-bad" help:"Skip malformed lines (and report how many) instead of importing nothing."`
	LikeAt     float64 `name:"like-at" default:"4" help:"Ratings from this value up are LIKEs, lower ones VIEWs."`
	ShiftToNow bool    `name:"shift-to-now" help:"Shift all timestamps so the newest is now, so that old datasets fall inside the server's training window (365 days)."`
}

// Run parses the whole file, then stores it in one transaction.
func (c *ImportCmd) Run(ctx context.Context, g *Globals, log *slog.Logger) error {
	f, err := os.Open(c.File)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	res, err := ingest.Parse(f, ingest.Options{Format: ingest.Format(c.Format), LikeAt: c.LikeAt, SkipBad: c.SkipBad,
		Progress: progressLine("read")})
	if err != nil {
		var le *ingest.LineError
		if errors.As(err, &le) {
			return fmt.Errorf("%s:%d: %v (nothing imported; --skip-bad imports the other lines)", c.File, le.Line, le.Err)
		}
		return err
	}
	if res.Lines >= ingest.ProgressEvery {
		fmt.Fprintln(os.Stderr)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(os.Stderr, "skipped %d malformed lines (first: %s:%d: %v)\n", res.Skipped, c.File, res.FirstBad.Line, res.FirstBad.Err)
	}
	if c.ShiftToNow {
		ingest.ShiftToNow(res.Records, time.Now().UTC())
	}
	source := c.Source
	if source == "" {
		source = "csv"
		if res.Format == ingest.MovieLens {
			source = "ml"
		}
	}
	st, err := openStore(ctx, g, log)
	if err != nil {
		return err
	}
	defer st.Close()
	sum, err := ingest.Import(ctx, st.Client, source, res.Records, func(done int) {
		if len(res.Records) >= ingest.ProgressEvery && done%(20*500) == 0 {
			fmt.Fprintf(os.Stderr, "\rstored %d of %d interactions...", done, len(res.Records))
		}
	})
	if len(res.Records) >= ingest.ProgressEvery {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d lines, %d imported, %d already there, %d skipped; %d new users, %d new items (source %q) in %v\n",
		c.File, res.Lines, sum.Imported, sum.Duplicates, res.Skipped, sum.NewUsers, sum.NewItems, source,
		time.Since(start).Round(time.Millisecond))
	return nil
}
