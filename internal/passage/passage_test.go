package passage

import (
	"fmt"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	short := strings.Repeat("word ", MaxSingleWords)
	if p := Split(short); len(p) != 1 || p[0] != (Span{0, len(short)}) {
		t.Fatalf("a %d-word text must stay one passage, got %v", MaxSingleWords, p)
	}
	var b strings.Builder
	b.WriteString("\n  ")
	for i := range 2000 {
		fmt.Fprintf(&b, "w%d ", i)
		if i%17 == 16 {
			b.WriteString("end. ")
		}
	}
	long := b.String()
	spans := Split(long)
	if len(spans) < 6 || len(spans) > 10 {
		t.Fatalf("2000+ words gave %d passages", len(spans))
	}
	ps := make([]string, len(spans))
	at := make([]int, len(spans))
	for i, sp := range spans {
		ps[i], at[i] = long[sp.Start:sp.End], sp.Start
	}
	for i, p := range ps {
		n := len(strings.Fields(p))
		if n > Words+5 || (i < len(ps)-1 && n < Words-Words/6-5) {
			t.Errorf("passage %d has %d words", i, n)
		}
		if i > 0 {
			prev := strings.Fields(ps[i-1])
			if !strings.Contains(p, strings.Join(prev[len(prev)-10:], " ")) {
				t.Errorf("passage %d does not overlap the previous one", i)
			}
		}
	}
	// The passages hold the whole text, and give it back.
	if got := Join(ps, at); got != long {
		t.Fatalf("joined passages differ from the text (%d bytes, want %d)", len(got), len(long))
	}
	if a := Anchor(3); a != "p-3" {
		t.Fatalf("Anchor(3) = %q", a)
	}
}
