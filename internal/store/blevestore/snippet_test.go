package blevestore

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceCut is cut written the plain way, with the standard library's
// strings.Fields: the snippet code must give the same text.
func referenceCut(s string, start int) string {
	for start > 0 && start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	rest := s[start:]
	end := len(rest)
	if utf8.RuneCountInString(rest) > snippetChars {
		n := 0
		for i := range rest {
			if n == snippetChars {
				end = i
				break
			}
			n++
		}
		if i := strings.LastIndexFunc(rest[:end], unicode.IsSpace); i > end/2 {
			end = i
		}
	}
	out := strings.Join(strings.Fields(rest[:end]), " ")
	if start > 0 && strings.TrimSpace(s[:start]) != "" {
		out = "… " + out
	}
	if end < len(rest) {
		out += " …"
	}
	return out
}

func TestCutMatchesReference(t *testing.T) {
	texts := []string{
		"",
		"   ",
		"short text",
		"  leading and trailing white space \n\t ",
		strings.Repeat("word ", 100),
		strings.Repeat("a\u00a0b\u2003c\u0085d\te\r\nf  ", 40), // Unicode spaces
		strings.Repeat("naïve café über straße ", 30),          // multi-byte letters
		strings.Repeat("x", 400),                               // no space to cut at
		strings.Repeat("Sentence one. Sentence two!\n\nNext paragraph? ", 12),
		strings.Repeat("日本語のテキスト、", 50), // no spaces, three-byte runes
	}
	for _, text := range texts {
		for start := 0; start <= len(text); start += max(1, len(text)/37) {
			if got, want := cut(text, start), referenceCut(text, start); got != want {
				t.Errorf("cut(%.30q…, %d) = %q\nwant %q", text, start, got, want)
			}
		}
	}
}

func TestNextWord(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,. ", nil},
		{"one", []string{"one"}},
		{"  two words ", []string{"two", "words"}},
		{"IL-10, p<0.05", []string{"IL", "10", "p", "0", "05"}},
		{"naïve—café «über»", []string{"naïve", "café", "über"}},
		{"x\u00a0y", []string{"x", "y"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
	}
	for _, tt := range tests {
		var got []string
		for start, end := range wordSpans(tt.in) {
			got = append(got, tt.in[start:end])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("words of %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}
