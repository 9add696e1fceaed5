package similarity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// stopwords are English function words that carry no topic.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be but by for from has have i in is it its
		of on or our so that the their this to was we were with you your my me us`) {
		stopwords[w] = true
	}
}

// isCJK reports whether r is written without spaces between words: Han,
// Hiragana, Katakana, or Hangul.
func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) || r == 'ー'
}

// tokenize splits text into terms: lowercase words for alphabetic scripts
// (single letters and English stopwords dropped), and overlapping character
// bigrams for runs of CJK characters (a lone character stands for itself),
// since those scripts do not separate words with spaces.
func tokenize(text string, emit func(string)) {
	const (
		none = iota
		word
		cjk
	)
	kind, start := none, 0
	flush := func(end int) {
		switch kind {
		case word:
			w := strings.ToLower(text[start:end])
			if utf8.RuneCountInString(w) > 1 && !stopwords[w] {
				emit(w)
			}
		case cjk:
			run := text[start:end]
			_, first := utf8.DecodeRuneInString(run)
			if first == len(run) {
				emit(run)
				break
			}
			for i := 0; i < len(run); {
				_, n1 := utf8.DecodeRuneInString(run[i:])
				if i+n1 >= len(run) {
					break
				}
				_, n2 := utf8.DecodeRuneInString(run[i+n1:])
				emit(run[i : i+n1+n2])
				i += n1
			}
		}
		kind = none
	}
	for i, r := range text {
		k := none
		switch {
		case isCJK(r):
			k = cjk
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			k = word
		}
		if k != kind {
			flush(i)
			kind, start = k, i
		}
	}
	flush(len(text))
}

// normalizeTag turns a tag into one term: lowercase, without a leading '#',
// inner spaces collapsed.
func normalizeTag(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(tag), "#")))
	return "#" + strings.Join(strings.Fields(tag), " ")
}
