package docurl

import (
	"net/url"
	"testing"
)

func TestURL(t *testing.T) {
	withBase, err := NewLinker("https://docs.example.com/kb/")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		linker Linker
		id     string
		own    string
		want   string
	}{
		{"own https URL wins", withBase, "a", "https://intranet.example.com/a", "https://intranet.example.com/a"},
		{"own http URL wins", withBase, "a", "http://wiki.local/a", "http://wiki.local/a"},
		{"file path is not a URL", withBase, "a", "/home/me/a.md", "https://docs.example.com/kb/docs/a"},
		{"relative URL is not citable", withBase, "a", "docs/a.html", "https://docs.example.com/kb/docs/a"},
		{"file URL is not citable", withBase, "a", "file:///tmp/a", "https://docs.example.com/kb/docs/a"},
		{"platform storage-like junk without host", withBase, "a", "https:///x", "https://docs.example.com/kb/docs/a"},
		{"OpenAI storage pages are not citable", withBase, "a", "https://platform.openai.com/storage/files/file-abc", "https://docs.example.com/kb/docs/a"},
		{"path id keeps slashes", withBase, "guides/set up.md", "", "https://docs.example.com/kb/docs/guides/set%20up.md"},
		{"dot segments use the query form", withBase, "a/../b", "", "https://docs.example.com/kb/docs/?id=a%2F..%2Fb"},
		{"leading slash uses the query form", withBase, "/abs", "", "https://docs.example.com/kb/docs/?id=%2Fabs"},
		{"no base, no own URL", Linker{}, "a", "", ""},
		{"no base, own URL", Linker{}, "a", "https://x.example/a", "https://x.example/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.linker.URL(tt.id, tt.own)
			if got != tt.want {
				t.Fatalf("URL(%q, %q) = %q, want %q", tt.id, tt.own, got, tt.want)
			}
			if got == "" || got == tt.own {
				return
			}
			// Every view URL maps back to its id (fetch accepts it).
			if id, ok := tt.linker.ID(got); !ok || id != tt.id {
				t.Errorf("ID(%q) = %q, %v; want %q", got, id, ok, tt.id)
			}
		})
	}
}

func TestIDRejectsOtherURLs(t *testing.T) {
	l, _ := NewLinker("https://docs.example.com")
	for _, u := range []string{"https://other.example/docs/a", "https://docs.example.com/elsewhere/a", "https://docs.example.com.evil/docs/a", "https://docs.example.com/docs/"} {
		if id, ok := l.ID(u); ok {
			t.Errorf("ID(%q) = %q, want no id", u, id)
		}
	}
}

func TestParseBase(t *testing.T) {
	for _, bad := range []string{"docs.example.com", "ftp://x.example", "https://", "https://x.example/?q=1", "https://x.example/#f", "https://u:p@x.example", "::"} {
		if _, err := ParseBase(bad); err == nil {
			t.Errorf("ParseBase(%q) accepted", bad)
		}
	}
	for _, good := range []string{"https://x.example", "http://127.0.0.1:8000", "https://x.example/prefix/"} {
		if _, err := ParseBase(good); err != nil {
			t.Errorf("ParseBase(%q): %v", good, err)
		}
	}
}

func TestViewID(t *testing.T) {
	for raw, want := range map[string]string{
		"/docs/a/b.md":         "a/b.md",
		"/docs/?id=x%2F..%2Fy": "x/../y",
		"/docs/a%20b":          "a b",
	} {
		u, _ := url.Parse(raw)
		if got, ok := ViewID(u); !ok || got != want {
			t.Errorf("ViewID(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}
