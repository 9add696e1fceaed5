package similarity

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Best RAMEN in Tokyo!", []string{"best", "ramen", "tokyo"}},
		{"The art of a 10km run", []string{"art", "10km", "run"}},
		{"Café crème, naïve", []string{"café", "crème", "naïve"}},
		{"東京のラーメン", []string{"東京", "京の", "のラ", "ラー", "ーメ", "メン"}},
		{"서울 여행", []string{"서울", "여행"}},
		{"iPhone 15で撮影", []string{"iphone", "15", "で撮", "撮影"}},
		{"猫 and 犬", []string{"猫", "犬"}},
		{"Привет мир", []string{"привет", "мир"}},
		{"", nil},
	} {
		var got []string
		tokenize(c.in, func(s string) { got = append(got, s) })
		if !slices.Equal(got, c.want) {
			t.Errorf("tokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNormalizeTag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"#Street  Food": "#street food", " fitness ": "#fitness", "##GYM": "#gym"} {
		if got := normalizeTag(in); got != want {
			t.Errorf("normalizeTag(%q) = %q, want %q", in, got, want)
		}
	}
}
