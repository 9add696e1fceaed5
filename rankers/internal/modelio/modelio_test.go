package modelio

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

const testMagic = "limelight/test 1"

func sample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, testMagic)
	w.Int(-7)
	w.Float64(2.5)
	w.String("héllo")
	w.Strings([]string{"a", "", "ccc"})
	big := make([]float32, 40000) // more than one block
	for i := range big {
		big[i] = float32(i) / 3
	}
	w.Float32s(big)
	w.Int32s([]int32{-1, 0, 1 << 30})
	w.Int64s([]int64{-1 << 40, 3})
	w.Matrix(csr.FromCOO(3, 4, []int32{0, 2, 2}, []int32{3, 1, 0}, []float32{1, 2, 3}))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	b := sample(t)
	r, err := NewReader(bytes.NewReader(b), testMagic)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Int(-10, 10); v != -7 {
		t.Errorf("Int = %d", v)
	}
	if v := r.Float64(); v != 2.5 {
		t.Errorf("Float64 = %v", v)
	}
	if v := r.String(100); v != "héllo" {
		t.Errorf("String = %q", v)
	}
	if v := r.Strings(10, 10); !slices.Equal(v, []string{"a", "", "ccc"}) {
		t.Errorf("Strings = %q", v)
	}
	f := r.Float32s(40000)
	if len(f) != 40000 || f[39999] != float32(39999)/3 {
		t.Errorf("Float32s: len %d", len(f))
	}
	if v := r.Int32s(-10); !slices.Equal(v, []int32{-1, 0, 1 << 30}) {
		t.Errorf("Int32s = %v", v)
	}
	if v := r.Int64s(2); !slices.Equal(v, []int64{-1 << 40, 3}) {
		t.Errorf("Int64s = %v", v)
	}
	m := r.Matrix(3, 4, 10)
	if cols, vals := m.Row(2); !slices.Equal(cols, []int32{0, 1}) || !slices.Equal(vals, []float32{3, 2}) {
		t.Errorf("Matrix row 2 = %v %v", cols, vals)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptionIsRefused(t *testing.T) {
	t.Parallel()
	b := sample(t)
	read := func(b []byte) error {
		r, err := NewReader(bytes.NewReader(b), testMagic)
		if err != nil {
			return err
		}
		r.Int(-10, 10)
		r.Float64()
		r.String(100)
		r.Strings(10, 10)
		r.Float32s(40000)
		r.Int32s(-10)
		r.Int64s(2)
		r.Matrix(3, 4, 10)
		return r.Close()
	}
	flipped := slices.Clone(b)
	flipped[len(flipped)/2] ^= 1
	for name, in := range map[string][]byte{
		"truncated":   b[:len(b)-10],
		"no trailer":  b[:len(b)-4],
		"flipped bit": flipped,
		"other magic": append([]byte("xx"), b...),
		"empty":       nil,
	} {
		err := read(in)
		if !errors.Is(err, ErrCorrupt) || !errors.Is(err, sdk.ErrBadInput) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func TestHugeLengthIsRefusedWithoutAllocating(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf, testMagic)
	w.Int(1 << 40) // claims a slice of 2^40 values
	w.Close()
	r, err := NewReader(&buf, testMagic)
	if err != nil {
		t.Fatal(err)
	}
	if v := r.Float32s(-1000); v != nil || !errors.Is(r.Err(), ErrCorrupt) {
		t.Errorf("got %d values, error %v", len(v), r.Err())
	}
}
