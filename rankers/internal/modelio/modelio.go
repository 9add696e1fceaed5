// Package modelio writes and reads the binary model snapshots of the
// built-in rankers: a magic line naming the format, little-endian fields,
// length-prefixed slices, and a CRC-32 trailer so that a truncated or
// corrupted snapshot is refused instead of loaded.
package modelio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"

	"github.com/limelight-hq/limelight/rankers/internal/csr"
	"github.com/limelight-hq/limelight/rankers/sdk"
)

// block is how many bytes are encoded or decoded at a time.
const block = 64 << 10

// Writer encodes a snapshot. Errors stick: after the first, writes do
// nothing and Close returns it.
type Writer struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf []byte
	err error
}

// NewWriter starts a snapshot in format magic (e.g. "limelight/als 1").
func NewWriter(w io.Writer, magic string) *Writer {
	mw := &Writer{w: bufio.NewWriterSize(w, block), crc: crc32.NewIEEE(), buf: make([]byte, block)}
	mw.String(magic)
	return mw
}

func (w *Writer) write(p []byte) {
	if w.err != nil {
		return
	}
	w.crc.Write(p)
	_, w.err = w.w.Write(p)
}

// Uint64 writes v.
func (w *Writer) Uint64(v uint64) {
	binary.LittleEndian.PutUint64(w.buf, v)
	w.write(w.buf[:8])
}

// Int writes v.
func (w *Writer) Int(v int) { w.Uint64(uint64(int64(v))) }

// Int64 writes v.
func (w *Writer) Int64(v int64) { w.Uint64(uint64(v)) }

// Float64 writes v.
func (w *Writer) Float64(v float64) { w.Uint64(math.Float64bits(v)) }

// String writes s.
func (w *Writer) String(s string) {
	w.Int(len(s))
	w.write([]byte(s))
}

// Strings writes ss.
func (w *Writer) Strings(ss []string) {
	w.Int(len(ss))
	for _, s := range ss {
		w.String(s)
	}
}

// Float32s writes v.
func (w *Writer) Float32s(v []float32) {
	w.Int(len(v))
	for len(v) > 0 {
		n := min(len(v), block/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(w.buf[4*i:], math.Float32bits(x))
		}
		w.write(w.buf[:4*n])
		v = v[n:]
	}
}

// Int32s writes v.
func (w *Writer) Int32s(v []int32) {
	w.Int(len(v))
	for len(v) > 0 {
		n := min(len(v), block/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(w.buf[4*i:], uint32(x))
		}
		w.write(w.buf[:4*n])
		v = v[n:]
	}
}

// Int64s writes v.
func (w *Writer) Int64s(v []int64) {
	w.Int(len(v))
	for len(v) > 0 {
		n := min(len(v), block/8)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint64(w.buf[8*i:], uint64(x))
		}
		w.write(w.buf[:8*n])
		v = v[n:]
	}
}

// Matrix writes m.
func (w *Writer) Matrix(m *csr.Matrix) {
	w.Int64s(m.Ptr)
	w.Int32s(m.Cols)
	w.Int(btoi(m.Vals != nil))
	if m.Vals != nil {
		w.Float32s(m.Vals)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sum32 returns the checksum of everything written so far. Rankers use it
// as their model version: equal models have equal sums.
func (w *Writer) Sum32() uint32 { return w.crc.Sum32() }

// Close writes the checksum trailer and flushes.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	binary.LittleEndian.PutUint32(w.buf, w.crc.Sum32())
	if _, err := w.w.Write(w.buf[:4]); err != nil {
		return err
	}
	return w.w.Flush()
}

// ErrCorrupt is wrapped by every error about the content of a snapshot. It
// wraps sdk.ErrBadInput: loading a bad snapshot is the caller's mistake.
var ErrCorrupt = fmt.Errorf("%w: corrupt model snapshot", sdk.ErrBadInput)

// Reader decodes a snapshot. Errors stick: after the first, reads return
// zero values and Close returns it.
type Reader struct {
	r   *bufio.Reader
	crc hash.Hash32
	buf []byte
	err error
}

// NewReader starts reading a snapshot that must be in format magic.
func NewReader(r io.Reader, magic string) (*Reader, error) {
	mr := &Reader{r: bufio.NewReaderSize(r, block), crc: crc32.NewIEEE(), buf: make([]byte, block)}
	if got := mr.String(len(magic)); mr.err != nil || got != magic {
		return nil, fmt.Errorf("%w: not a %q snapshot", ErrCorrupt, magic)
	}
	return mr, nil
}

func (r *Reader) read(p []byte) bool {
	if r.err != nil {
		return false
	}
	if _, err := io.ReadFull(r.r, p); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: truncated", ErrCorrupt)
		}
		r.err = err
		return false
	}
	r.crc.Write(p)
	return true
}

// Uint64 reads a value written by Writer.Uint64.
func (r *Reader) Uint64() uint64 {
	if !r.read(r.buf[:8]) {
		return 0
	}
	return binary.LittleEndian.Uint64(r.buf)
}

// Int64 reads a value written by Writer.Int64.
func (r *Reader) Int64() int64 { return int64(r.Uint64()) }

// Float64 reads a value written by Writer.Float64.
func (r *Reader) Float64() float64 { return math.Float64frombits(r.Uint64()) }

// Int reads a value written by Writer.Int that must lie in [lo, hi].
func (r *Reader) Int(lo, hi int) int {
	v := r.Int64()
	if r.err == nil && (v < int64(lo) || v > int64(hi)) {
		r.err = fmt.Errorf("%w: value %d out of range [%d,%d]", ErrCorrupt, v, lo, hi)
		return 0
	}
	return int(v)
}

// length reads a slice length of at most max.
func (r *Reader) length(max int) int { return r.Int(0, max) }

// String reads a string of at most max bytes.
func (r *Reader) String(max int) string {
	n := r.length(max)
	if r.err != nil {
		return ""
	}
	b := make([]byte, n)
	r.read(b)
	return string(b)
}

// Strings reads at most max strings of at most maxLen bytes each.
func (r *Reader) Strings(max, maxLen int) []string {
	n := r.length(max)
	out := make([]string, 0, n)
	for range n {
		if r.err != nil {
			return nil
		}
		out = append(out, r.String(maxLen))
	}
	return out
}

// Float32s reads a slice of exactly want values, or, if want is negative,
// of at most -want values.
func (r *Reader) Float32s(want int) []float32 {
	n := r.sliceLen(want)
	if r.err != nil {
		return nil
	}
	out := make([]float32, n)
	for v := out; len(v) > 0; {
		k := min(len(v), block/4)
		if !r.read(r.buf[:4*k]) {
			return nil
		}
		for i := range v[:k] {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.buf[4*i:]))
		}
		v = v[k:]
	}
	return out
}

// Int32s reads a slice like Float32s.
func (r *Reader) Int32s(want int) []int32 {
	n := r.sliceLen(want)
	if r.err != nil {
		return nil
	}
	out := make([]int32, n)
	for v := out; len(v) > 0; {
		k := min(len(v), block/4)
		if !r.read(r.buf[:4*k]) {
			return nil
		}
		for i := range v[:k] {
			v[i] = int32(binary.LittleEndian.Uint32(r.buf[4*i:]))
		}
		v = v[k:]
	}
	return out
}

// Int64s reads a slice like Float32s.
func (r *Reader) Int64s(want int) []int64 {
	n := r.sliceLen(want)
	if r.err != nil {
		return nil
	}
	out := make([]int64, n)
	for v := out; len(v) > 0; {
		k := min(len(v), block/8)
		if !r.read(r.buf[:8*k]) {
			return nil
		}
		for i := range v[:k] {
			v[i] = int64(binary.LittleEndian.Uint64(r.buf[8*i:]))
		}
		v = v[k:]
	}
	return out
}

func (r *Reader) sliceLen(want int) int {
	if want >= 0 {
		n := r.Int(want, want)
		return n
	}
	return r.length(-want)
}

// Matrix reads a matrix of exactly rows rows whose columns lie in
// [0, cols), with at most maxNNZ entries.
func (r *Reader) Matrix(rows, cols, maxNNZ int) *csr.Matrix {
	m := &csr.Matrix{Ptr: r.Int64s(rows + 1)}
	m.Cols = r.Int32s(-maxNNZ)
	if r.Int(0, 1) == 1 {
		m.Vals = r.Float32s(len(m.Cols))
	}
	if r.err != nil {
		return nil
	}
	// Check the structure, so that a corrupt snapshot cannot make Row
	// panic later.
	if m.Ptr[0] != 0 || m.Ptr[rows] != int64(len(m.Cols)) {
		r.err = fmt.Errorf("%w: sparse matrix pointers", ErrCorrupt)
		return nil
	}
	for i := range rows {
		if m.Ptr[i] > m.Ptr[i+1] {
			r.err = fmt.Errorf("%w: sparse matrix pointers", ErrCorrupt)
			return nil
		}
		for p := m.Ptr[i]; p < m.Ptr[i+1]; p++ {
			if c := m.Cols[p]; c < 0 || int(c) >= cols || (p > m.Ptr[i] && c <= m.Cols[p-1]) {
				r.err = fmt.Errorf("%w: sparse matrix columns", ErrCorrupt)
				return nil
			}
		}
	}
	return m
}

// Fail records err as the Reader's error (a caller's own consistency check)
// unless one is already recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err returns the first error met so far.
func (r *Reader) Err() error { return r.err }

// Sum32 returns the checksum of everything read so far; after Close it
// equals the Writer's Sum32 for the same snapshot.
func (r *Reader) Sum32() uint32 { return r.crc.Sum32() }

// Close checks the checksum trailer. It does not read past it.
func (r *Reader) Close() error {
	if r.err != nil {
		return r.err
	}
	want := r.crc.Sum32()
	if _, err := io.ReadFull(r.r, r.buf[:4]); err != nil {
		return fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	if got := binary.LittleEndian.Uint32(r.buf); got != want {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return nil
}
