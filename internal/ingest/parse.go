// Package ingest imports interaction datasets from files: the MovieLens
// u.data layout (tab-separated user, item, rating, timestamp) and generic
// CSV or TSV files mapped by header names. Parsing is separate from
// storing, so the same records feed the database (Import) and offline
// evaluation straight from a file.
package ingest

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/limelight-hq/limelight/ent/interaction"
	"github.com/limelight-hq/limelight/internal/activity"
)

// Format is a file layout.
type Format string

// The formats.
const (
	// MovieLens is u.data: user, item, rating, Unix timestamp, tab-separated,
	// no header.
	MovieLens Format = "movielens"
	// CSV has a header row naming its columns: user and item (required),
	// kind or rating (one of them), timestamp (Unix seconds or RFC 3339),
	// and optionally tags (separated by | or ;) and title. A file whose
	// header holds tabs is read as TSV.
	CSV Format = "csv"
)

// ErrMalformed is wrapped by every LineError.
var ErrMalformed = errors.New("malformed line")

// LineError is a malformed line.
type LineError struct {
	// Line is the 1-based line number in the file.
	Line int
	// Err says what is wrong.
	Err error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns ErrMalformed and the cause.
func (e *LineError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// Record is one interaction read from a file.
type Record struct {
	// Line is the 1-based line number in the file.
	Line int
	// User and Item are the file's own IDs.
	User, Item string
	// Kind is the interaction kind: given by the file, or mapped from Rating.
	Kind interaction.Kind
	// Rating is the file's rating, 0 when it has none.
	Rating float64
	// At is when it happened, UTC.
	At time.Time
	// Tags and Title describe the item, when the file has them.
	Tags  []string
	Title string
	// EventID identifies the line: a hash of its text, so re-importing the
	// same file finds the same interactions.
	EventID string
}

// Options configure parsing.
type Options struct {
	// Format is the layout; "" guesses from the first line (a header with
	// a "user" column is CSV, four tab-separated numbers MovieLens).
	Format Format
	// LikeAt is the rating from which an interaction is a LIKE; lower
	// ratings are VIEWs. Default 4 (of MovieLens's 1-5).
	LikeAt float64
	// SkipBad skips malformed lines (counting them) instead of failing.
	SkipBad bool
	// Progress, if set, is called every ProgressEvery lines with the count.
	Progress func(lines int)
}

// ProgressEvery is how many lines pass between Progress calls.
const ProgressEvery = 100_000

// Result is what Parse read.
type Result struct {
	// Format is the layout read (the guessed one, if Options left it out).
	Format  Format
	Records []Record
	// Lines counts the data lines read (the header not included).
	Lines int
	// Skipped counts the malformed lines skipped with SkipBad.
	Skipped int
	// FirstBad is the first malformed line skipped, if any.
	FirstBad *LineError
}

// Parse reads a whole file. Without SkipBad the first malformed line fails
// the parse with a *LineError.
func Parse(r io.Reader, opt Options) (*Result, error) {
	if opt.LikeAt == 0 {
		opt.LikeAt = 4
	}
	br := bufio.NewReaderSize(r, 1<<16)
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	firstLine, _, _ := strings.Cut(string(first), "\n")
	firstLine = strings.TrimPrefix(firstLine, "\ufeff")
	if opt.Format == "" {
		opt.Format = guess(firstLine)
	}
	p := &parser{opt: opt, res: &Result{Format: opt.Format}}
	switch opt.Format {
	case MovieLens:
		err = p.movielens(br)
	case CSV:
		err = p.csv(br, strings.Contains(firstLine, "\t"))
	default:
		return nil, fmt.Errorf("unknown format %q (want movielens or csv)", opt.Format)
	}
	if err != nil {
		return nil, err
	}
	return p.res, nil
}

func guess(first string) Format {
	for _, f := range strings.FieldsFunc(strings.ToLower(first), func(r rune) bool { return r == ',' || r == '\t' || r == ';' }) {
		if col(strings.TrimSpace(f)) == "user" {
			return CSV
		}
	}
	return MovieLens
}

type parser struct {
	opt Options
	res *Result
}

// bad handles a malformed line: an error to stop on, or nil to go on.
func (p *parser) bad(line int, err error) error {
	le := &LineError{Line: line, Err: err}
	if !p.opt.SkipBad {
		return le
	}
	p.res.Skipped++
	if p.res.FirstBad == nil {
		p.res.FirstBad = le
	}
	return nil
}

func (p *parser) progress() {
	p.res.Lines++
	if p.opt.Progress != nil && p.res.Lines%ProgressEvery == 0 {
		p.opt.Progress(p.res.Lines)
	}
}

// eventPrefix starts the event ID of every imported interaction.
const eventPrefix = "imp_"

func eventID(text string) string {
	sum := sha256.Sum256([]byte(strings.TrimRight(text, "\r\n")))
	return eventPrefix + hex.EncodeToString(sum[:16])
}

func (p *parser) movielens(r *bufio.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.TrimSpace(text) == "" {
			continue
		}
		p.progress()
		f := strings.Split(strings.TrimRight(text, "\r"), "\t")
		if len(f) != 4 {
			if err := p.bad(line, fmt.Errorf("want 4 tab-separated fields (user item rating timestamp), got %d", len(f))); err != nil {
				return err
			}
			continue
		}
		rec, err := p.record(line, text, f[0], f[1], "", f[2], f[3])
		if err != nil {
			if err := p.bad(line, err); err != nil {
				return err
			}
			continue
		}
		p.res.Records = append(p.res.Records, rec)
	}
	return sc.Err()
}

// col normalises a header name to the column it means.
func col(h string) string {
	switch strings.ToLower(strings.TrimSpace(h)) {
	case "user", "user_id", "userid", "uid":
		return "user"
	case "item", "item_id", "itemid", "content", "content_id", "movie_id", "movieid":
		return "item"
	case "kind", "event", "type":
		return "kind"
	case "rating", "score":
		return "rating"
	case "timestamp", "time", "ts", "occurred_at", "date":
		return "timestamp"
	case "tags", "genres", "labels":
		return "tags"
	case "title", "name":
		return "title"
	}
	return ""
}

func (p *parser) csv(r *bufio.Reader, tabs bool) error {
	cr := csv.NewReader(r)
	if tabs {
		cr.Comma = '\t'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return &LineError{Line: 1, Err: fmt.Errorf("read header: %w", err)}
	}
	idx := map[string]int{}
	for i, h := range header {
		if c := col(strings.TrimPrefix(h, "\ufeff")); c != "" {
			if _, dup := idx[c]; !dup {
				idx[c] = i
			}
		}
	}
	for _, need := range []string{"user", "item", "timestamp"} {
		if _, ok := idx[need]; !ok {
			return &LineError{Line: 1, Err: fmt.Errorf("header has no %s column (have %v)", need, header)}
		}
	}
	_, hasKind := idx["kind"]
	_, hasRating := idx["rating"]
	if !hasKind && !hasRating {
		return &LineError{Line: 1, Err: fmt.Errorf("header needs a kind or a rating column (have %v)", header)}
	}
	get := func(f []string, c string) string {
		if i, ok := idx[c]; ok && i < len(f) {
			return strings.TrimSpace(f[i])
		}
		return ""
	}
	for {
		f, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var line int
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			if err := p.bad(line, err); err != nil {
				return err
			}
			continue
		}
		line, _ = cr.FieldPos(0)
		if len(f) == 1 && strings.TrimSpace(f[0]) == "" {
			continue
		}
		p.progress()
		if len(f) != len(header) {
			if err := p.bad(line, fmt.Errorf("want %d fields, got %d", len(header), len(f))); err != nil {
				return err
			}
			continue
		}
		text := strings.Join(f, "\x1f") // the line's fields, as csv unquoted them
		rec, err := p.record(line, text, get(f, "user"), get(f, "item"), get(f, "kind"), get(f, "rating"), get(f, "timestamp"))
		if err == nil {
			rec.Title = get(f, "title")
			if len(rec.Title) > 300 {
				err = fmt.Errorf("title longer than 300 bytes")
			}
			if t := get(f, "tags"); t != "" {
				rec.Tags, err = tags(t, err)
			}
		}
		if err != nil {
			if err := p.bad(line, err); err != nil {
				return err
			}
			continue
		}
		p.res.Records = append(p.res.Records, rec)
	}
}

func tags(s string, prev error) ([]string, error) {
	if prev != nil {
		return nil, prev
	}
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ';' }) {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if len(t) > 64 {
			return nil, fmt.Errorf("tag %q longer than 64 bytes", t)
		}
		out = append(out, t)
	}
	if len(out) > 32 {
		return nil, fmt.Errorf("%d tags, at most 32", len(out))
	}
	return out, nil
}

// record validates and converts one line's fields.
func (p *parser) record(line int, text, user, item, kind, rating, ts string) (Record, error) {
	rec := Record{Line: line, User: strings.TrimSpace(user), Item: strings.TrimSpace(item), EventID: eventID(text)}
	switch {
	case rec.User == "":
		return rec, errors.New("empty user")
	case rec.Item == "":
		return rec, errors.New("empty item")
	case len(rec.User) > 150 || len(rec.Item) > 150:
		return rec, errors.New("user or item ID longer than 150 bytes")
	}
	if rating = strings.TrimSpace(rating); rating != "" {
		v, err := strconv.ParseFloat(rating, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return rec, fmt.Errorf("rating %q is not a number in [0,100]", rating)
		}
		rec.Rating = v
		rec.Kind = interaction.KindVIEW
		if v >= p.opt.LikeAt {
			rec.Kind = interaction.KindLIKE
		}
	}
	if kind = strings.TrimSpace(kind); kind != "" {
		k := interaction.Kind(strings.ToUpper(kind))
		if err := interaction.KindValidator(k); err != nil {
			return rec, fmt.Errorf("kind %q is not one of VIEW, LIKE, COMMENT, SHARE, CLICK, SKIP", kind)
		}
		rec.Kind = k
	}
	if rec.Kind == "" {
		return rec, errors.New("neither kind nor rating given")
	}
	at, err := parseTime(strings.TrimSpace(ts))
	if err != nil {
		return rec, err
	}
	// The API refuses occurredAt in the future too (beyond clock skew).
	if at.After(time.Now().Add(activity.MaxFutureSkew)) {
		return rec, fmt.Errorf("timestamp %s is in the future", at.Format(time.RFC3339))
	}
	rec.At = at
	return rec, nil
}

func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > 1e11 {
			return time.Time{}, fmt.Errorf("timestamp %d is not Unix seconds", n)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is neither Unix seconds nor RFC 3339", s)
}

// ShiftToNow moves every record's time by the same amount so that the newest
// is now: old datasets then fall inside the server's training window.
func ShiftToNow(recs []Record, now time.Time) {
	var newest time.Time
	for _, r := range recs {
		if r.At.After(newest) {
			newest = r.At
		}
	}
	d := now.Sub(newest)
	for i := range recs {
		recs[i].At = recs[i].At.Add(d)
	}
}
