package csr

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFromCOOSumsDuplicatesAndSortsRows(t *testing.T) {
	t.Parallel()
	r := []int32{2, 0, 2, 0, 2, 3}
	c := []int32{1, 4, 0, 4, 1, 2}
	v := []float32{1, 2, 3, 4, 5, 6}
	m := FromCOO(5, 5, r, c, v)
	for _, tc := range []struct {
		row  int
		cols []int32
		vals []float32
	}{
		{0, []int32{4}, []float32{6}},
		{1, []int32{}, []float32{}},
		{2, []int32{0, 1}, []float32{3, 6}},
		{3, []int32{2}, []float32{6}},
		{4, []int32{}, []float32{}},
	} {
		cols, vals := m.Row(tc.row)
		if !slices.Equal(cols, tc.cols) || !slices.Equal(vals, tc.vals) {
			t.Errorf("row %d = %v %v, want %v %v", tc.row, cols, vals, tc.cols, tc.vals)
		}
	}
	if m.NNZ() != 4 || m.Rows() != 5 {
		t.Errorf("nnz %d rows %d", m.NNZ(), m.Rows())
	}
	if !m.Has(2, 1) || m.Has(2, 2) || m.Has(1, 0) {
		t.Error("Has is wrong")
	}
}

func TestTransposeRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	const rows, cols, n = 40, 30, 500
	var r, c []int32
	var v []float32
	dense := make([][]float32, rows)
	for i := range dense {
		dense[i] = make([]float32, cols)
	}
	for range n {
		i, j := rng.Int32N(rows), rng.Int32N(cols)
		w := float32(rng.IntN(5) + 1)
		r, c, v = append(r, i), append(c, j), append(v, w)
		dense[i][j] += w
	}
	m := FromCOO(rows, cols, r, c, v)
	tt := m.Transpose(cols)
	for j := range cols {
		cs, vs := tt.Row(j)
		if !slices.IsSorted(cs) {
			t.Fatalf("transposed row %d not sorted", j)
		}
		for p, i := range cs {
			if dense[i][j] != vs[p] {
				t.Fatalf("(%d,%d) = %v, want %v", i, j, vs[p], dense[i][j])
			}
		}
	}
	back := tt.Transpose(rows)
	if !slices.Equal(back.Ptr, m.Ptr) || !slices.Equal(back.Cols, m.Cols) || !slices.Equal(back.Vals, m.Vals) {
		t.Error("transposing twice changed the matrix")
	}
	pattern := FromCOO(rows, cols, r, c, nil)
	if pattern.Vals != nil || !slices.Equal(pattern.Cols, m.Cols) {
		t.Error("pattern-only matrix differs in structure")
	}
}
