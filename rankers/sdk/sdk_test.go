package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestValidateParams(t *testing.T) {
	t.Parallel()
	specs := []ParamSpec{
		{Name: "n", Kind: ParamInt, Min: 1, Max: 10, Default: "3"},
		{Name: "x", Kind: ParamFloat, Min: 0, Max: 1, Default: "0.5"},
		{Name: "on", Kind: ParamBool, Default: "true"},
		{Name: "s", Kind: ParamString, Default: "a"},
	}
	for _, c := range []struct {
		p  Params
		ok bool
	}{
		{nil, true},
		{Params{"n": "10", "x": "0", "on": "false", "s": "anything"}, true},
		{Params{"n": "11"}, false},
		{Params{"n": "2.5"}, false},
		{Params{"x": "NaN"}, false},
		{Params{"x": "-0.1"}, false},
		{Params{"on": "maybe"}, false},
		{Params{"nope": "1"}, false},
	} {
		err := ValidateParams(specs, c.p)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadInput)) {
			t.Errorf("ValidateParams(%v) = %v, want ok=%v", c.p, err, c.ok)
		}
	}
	p := WithDefaults(specs, Params{"n": "7"})
	if p["n"] != "7" || p["x"] != "0.5" || p["s"] != "a" || len(p) != 4 {
		t.Errorf("WithDefaults = %v", p)
	}
	if n, err := p.Int("n", 0); n != 7 || err != nil {
		t.Errorf("Int = %d, %v", n, err)
	}
	if x, err := p.Float("missing", 1.5); x != 1.5 || err != nil {
		t.Errorf("Float default = %v, %v", x, err)
	}
	if _, err := (Params{"n": "x"}).Int("n", 0); !errors.Is(err, ErrBadInput) {
		t.Errorf("Int of junk: %v", err)
	}
}

func TestDatasetValidate(t *testing.T) {
	t.Parallel()
	good := func() *Dataset {
		return &Dataset{
			NumUsers: 2, NumItems: 3,
			Users: []int32{0, 1}, Items: []int32{2, 0}, Weights: []float32{1, -1}, Times: []int64{5, 6},
			Features: make([]ItemFeatures, 3),
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Dataset){
		"user out of range":  func(d *Dataset) { d.Users[1] = 2 },
		"negative item":      func(d *Dataset) { d.Items[0] = -1 },
		"zero weight":        func(d *Dataset) { d.Weights[0] = 0 },
		"NaN weight":         func(d *Dataset) { d.Weights[0] = float32(math.NaN()) },
		"short times":        func(d *Dataset) { d.Times = d.Times[:1] },
		"short items":        func(d *Dataset) { d.Items = d.Items[:1] },
		"features mismatch":  func(d *Dataset) { d.Features = d.Features[:2] },
		"negative user size": func(d *Dataset) { d.NumUsers = -1 },
	} {
		d := good()
		mutate(d)
		if err := d.Validate(); !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := good()
	d.Times, d.Features = nil, nil
	if err := d.Validate(); err != nil {
		t.Errorf("without times and features: %v", err)
	}
	if tm, ok := good().MaxTime(); tm != 6 || !ok {
		t.Errorf("MaxTime = %d, %v", tm, ok)
	}
}

func TestErrorsCrossTheWire(t *testing.T) {
	t.Parallel()
	for _, sentinel := range []error{ErrBadInput, ErrNotTrained, ErrUnknownUser, ErrUnsupported, context.DeadlineExceeded} {
		err := fromStatus(toStatus(fmt.Errorf("als: %w: user 7", sentinel)))
		if !errors.Is(err, sentinel) {
			t.Errorf("%v came back as %v", sentinel, err)
		}
		if !strings.Contains(err.Error(), "user 7") {
			t.Errorf("message lost: %v", err)
		}
	}
	err := fromStatus(toStatus(errors.New("disk on fire")))
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("plain error came back as %v", err)
	}
	if fromStatus(nil) != nil || toStatus(nil) != nil {
		t.Error("nil is not nil")
	}
}

func TestChunkedStreams(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 17} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i * 7)
		}
		var chunks [][]byte
		w := &chunkWriter{send: func(b []byte) error {
			if len(b) > chunkSize || len(b) == 0 {
				t.Errorf("chunk of %d bytes", len(b))
			}
			chunks = append(chunks, bytes.Clone(b))
			return nil
		}}
		// Write in odd pieces, as Save implementations do.
		for p := data; len(p) > 0; {
			k := min(len(p), 1+len(p)/3)
			if _, err := w.Write(p[:k]); err != nil {
				t.Fatal(err)
			}
			p = p[k:]
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		i := 0
		r := &chunkReader{recv: func() ([]byte, error) {
			if i == len(chunks) {
				return nil, io.EOF
			}
			i++
			return chunks[i-1], nil
		}}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: got %d back, %v", n, len(got), err)
		}
	}
}

func TestQueryCheck(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		q  Query
		ok bool
	}{
		{Query{User: -1, K: 1}, true},
		{Query{User: 99, K: 5, Exclude: []int32{-5, 1000}}, true},
		{Query{User: 0, K: 0}, false},
		{Query{User: -2, K: 3}, false},
		{Query{User: 0, K: 3, Candidates: []int32{10}}, false},
		{Query{User: 0, K: 3, History: []ItemWeight{{Item: -1, Weight: 1}}}, false},
	} {
		if err := c.q.Check(10); (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadInput)) {
			t.Errorf("Check(%+v) = %v, want ok=%v", c.q, err, c.ok)
		}
	}
	if (Query{User: 3}).Known(3) || !(Query{User: 2}).Known(3) || (Query{User: -1}).Known(3) {
		t.Error("Known is wrong")
	}
}

func TestCapabilityStrings(t *testing.T) {
	t.Parallel()
	if s := (UserItems | ItemItems).String(); s != "USER_ITEMS|ITEM_ITEMS" {
		t.Errorf("capabilities %q", s)
	}
	if s := (NeedInteractions | NeedItemFeatures).String(); s != "INTERACTIONS|ITEM_FEATURES" {
		t.Errorf("needs %q", s)
	}
}
