package docurl

import (
	"strings"
	"testing"
	"time"
)

func TestEncodeTextDirective(t *testing.T) {
	got := EncodeTextDirective("re-use, A&B café 10%")
	want := "re%2Duse%2C%20A%26B%20caf%C3%A9%2010%25"
	if got != want {
		t.Fatalf("EncodeTextDirective = %q, want %q", got, want)
	}
}

func TestQuotable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"… expense claims filed later than 30 days are not reimbursed. The finance team …",
			"expense claims filed later than 30 days are"},
		{"See **bold** [link](x) then plain words come here, yes", "then plain words come here, yes"},
		{"one two\nthree four five six", "three four five six"},
		{"it's a well-known fact:", "it's a well-known fact"},
		{"** ## ``", ""},
		{"short", "short"},
	} {
		if got := quotable(c.in); got != c.want {
			t.Errorf("quotable(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestHitURL(t *testing.T) {
	l, err := NewLinker("https://docs.example.com/kb")
	if err != nil {
		t.Fatal(err)
	}
	snip := "… submit receipts within 30 days of the trip …"
	// Own page: a text fragment.
	if got, want := l.HitURL("a", "https://intra.example.com/page", 3, snip),
		"https://intra.example.com/page#:~:text=submit%20receipts%20within%2030%20days%20of%20the%20trip"; got != want {
		t.Errorf("own page: %q, want %q", got, want)
	}
	// An own URL with a fragment keeps it.
	if got := l.HitURL("a", "https://intra.example.com/page#setup", 0, snip); !strings.HasPrefix(got, "https://intra.example.com/page#setup:~:text=submit") {
		t.Errorf("own page with fragment: %q", got)
	}
	// Document view with a passage: its anchor.
	if got, want := l.HitURL("guides/setup.md", "", 3, snip), "https://docs.example.com/kb/docs/guides/setup.md#p-3"; got != want {
		t.Errorf("view: %q, want %q", got, want)
	}
	// Without a passage number (openaistore): a text fragment on the view.
	if got := l.HitURL("file-1", "", 0, snip); got != "https://docs.example.com/kb/docs/file-1#:~:text=submit%20receipts%20within%2030%20days%20of%20the%20trip" {
		t.Errorf("view without passage: %q", got)
	}
	// No link at all stays empty.
	if got := (Linker{}).HitURL("a", "", 2, snip); got != "" {
		t.Errorf("no base: %q", got)
	}
	// Signed links: the anchor follows the signature, which still verifies.
	s, err := l.Signed([]byte(strings.Repeat("k", 32)), time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	link := s.HitURL("guides/setup.md", "", 2, snip)
	base, frag, _ := strings.Cut(link, "#")
	if frag != "p-2" || !strings.Contains(base, "?exp=") {
		t.Fatalf("signed: %q", link)
	}
	if id, ok := s.ID(link); !ok || id != "guides/setup.md" {
		t.Errorf("ID(%q) = %q, %v", link, id, ok)
	}
}

func TestStripTextFragment(t *testing.T) {
	for in, want := range map[string]string{
		"https://a.example/p#:~:text=x":      "https://a.example/p",
		"https://a.example/p#top:~:text=x":   "https://a.example/p#top",
		"https://a.example/p":                "https://a.example/p",
		"https://a.example/p?q=:~:":          "https://a.example/p?q=:~:",
		"https://a.example/docs/x?exp=1#p-2": "https://a.example/docs/x?exp=1#p-2",
	} {
		if got := StripTextFragment(in); got != want {
			t.Errorf("StripTextFragment(%q) = %q, want %q", in, got, want)
		}
	}
}
