// Package csr stores sparse user×item matrices in compressed sparse row
// form: the interactions of one user (or, transposed, of one item) are a
// contiguous, column-sorted slice.
package csr

import "slices"

// Matrix is a sparse matrix in compressed sparse row form. Row r holds
// columns Cols[Ptr[r]:Ptr[r+1]], ascending and distinct, with values
// Vals[Ptr[r]:Ptr[r+1]].
type Matrix struct {
	// Ptr has one entry per row plus one.
	Ptr []int64
	// Cols holds the column indexes of the stored entries, row by row.
	Cols []int32
	// Vals holds the values of the stored entries, or is nil for a
	// pattern-only matrix.
	Vals []float32
}

// FromCOO builds a rows×cols matrix from entries (r[j], c[j], v[j]),
// summing the values of repeated (row, column) pairs. v may be nil for a
// pattern-only matrix. Indexes must be in range. The work is two counting
// sorts, so the result does not depend on the order of the entries other
// than through float addition order, which is the input order.
func FromCOO(rows, cols int, r, c []int32, v []float32) *Matrix {
	n := len(r)
	// Counting sort by column, then a stable counting sort by row: rows end
	// up with ascending columns.
	byCol := countingOrder(cols, n, func(j int) int32 { return c[j] }, nil)
	byRow := countingOrder(rows, n, func(j int) int32 { return r[j] }, byCol)

	m := &Matrix{Ptr: make([]int64, rows+1), Cols: make([]int32, 0, n)}
	if v != nil {
		m.Vals = make([]float32, 0, n)
	}
	row := int32(-1)
	for _, j := range byRow {
		rj, cj := r[j], c[j]
		if rj == row && len(m.Cols) > int(m.Ptr[rj]) && m.Cols[len(m.Cols)-1] == cj {
			if v != nil {
				m.Vals[len(m.Vals)-1] += v[j]
			}
			continue
		}
		for row < rj {
			row++
			m.Ptr[row] = int64(len(m.Cols))
		}
		m.Cols = append(m.Cols, cj)
		if v != nil {
			m.Vals = append(m.Vals, v[j])
		}
	}
	for row < int32(rows) {
		row++
		m.Ptr[row] = int64(len(m.Cols))
	}
	m.Cols = slices.Clip(m.Cols)
	if v != nil {
		m.Vals = slices.Clip(m.Vals)
	}
	return m
}

// countingOrder returns the indexes 0..n-1 (or those of order, kept stable)
// sorted by key, which lies in [0, buckets).
func countingOrder(buckets, n int, key func(int) int32, order []int32) []int32 {
	count := make([]int64, buckets+1)
	for j := range n {
		count[key(j)+1]++
	}
	for b := 1; b <= buckets; b++ {
		count[b] += count[b-1]
	}
	out := make([]int32, n)
	for t := range n {
		j := t
		if order != nil {
			j = int(order[t])
		}
		k := key(j)
		out[count[k]] = int32(j)
		count[k]++
	}
	return out
}

// Rows returns the number of rows.
func (m *Matrix) Rows() int { return len(m.Ptr) - 1 }

// NNZ returns the number of stored entries.
func (m *Matrix) NNZ() int { return len(m.Cols) }

// Row returns the columns and values (nil for a pattern-only matrix) of
// row i.
func (m *Matrix) Row(i int) ([]int32, []float32) {
	lo, hi := m.Ptr[i], m.Ptr[i+1]
	if m.Vals == nil {
		return m.Cols[lo:hi], nil
	}
	return m.Cols[lo:hi], m.Vals[lo:hi]
}

// Has reports whether row i stores column c.
func (m *Matrix) Has(i int, c int32) bool {
	cols, _ := m.Row(i)
	_, ok := slices.BinarySearch(cols, c)
	return ok
}

// Transpose returns the cols×rows transpose.
func (m *Matrix) Transpose(cols int) *Matrix {
	rows := make([]int32, m.NNZ())
	for i := range m.Rows() {
		for p := m.Ptr[i]; p < m.Ptr[i+1]; p++ {
			rows[p] = int32(i)
		}
	}
	return FromCOO(cols, m.Rows(), m.Cols, rows, m.Vals)
}

// Bytes returns the memory the matrix holds.
func (m *Matrix) Bytes() int { return 8*cap(m.Ptr) + 4*cap(m.Cols) + 4*cap(m.Vals) }
