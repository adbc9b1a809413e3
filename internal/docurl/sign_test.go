package docurl

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignedLinks(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)
	clock := func() time.Time { return now }
	base, err := NewLinker("https://docs.example.com/base")
	if err != nil {
		t.Fatal(err)
	}
	key := []byte(strings.Repeat("k", 32))
	l, err := base.Signed(key, 24*time.Hour, clock)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(link string) (string, error) {
		t.Helper()
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = strings.TrimPrefix(u.Path, "/base") // as the server sees it behind its prefix
		return l.Verify(u)
	}
	for _, id := range []string{"guides/setup.md", "weird id/..", "ü?x=1&sig=2"} {
		link := l.URL(id, "")
		if !strings.Contains(link, "exp=") || !strings.Contains(link, "sig=") {
			t.Fatalf("URL(%q) = %q: not signed", id, link)
		}
		if got, err := verify(link); err != nil || got != id {
			t.Errorf("Verify(%q) = %q, %v; want %q", link, got, err, id)
		}
		if got, ok := l.ID(link); !ok || got != id {
			t.Errorf("ID(%q) = %q, %v: fetch must still accept the link", link, got, ok)
		}
	}
	if got := l.URL("a", "https://example.com/own"); got != "https://example.com/own" {
		t.Errorf("a document's own URL became %q", got)
	}

	link := l.URL("hr/salaries.md", "")
	other := strings.Replace(link, "hr/salaries.md", "hr/bonus.md", 1)
	exp := now.Add(24 * time.Hour).Truncate(time.Minute).Add(time.Minute).Unix()
	later := strings.Replace(link, "exp="+itoa(exp), "exp="+itoa(exp+86400), 1)
	for name, tt := range map[string]struct {
		link string
		want error
	}{
		"another document": {other, ErrLinkInvalid},
		"a later expiry":   {later, ErrLinkInvalid},
		"no signature":     {base.URL("hr/salaries.md", ""), ErrLinkUnsigned},
		"a bad expiry":     {strings.Replace(link, "exp=", "exp=x", 1), ErrLinkInvalid},
		"no expiry":        {strings.Replace(link, "exp=", "e=", 1), ErrLinkInvalid},
	} {
		if _, err := verify(tt.link); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", name, err, tt.want)
		}
	}
	now = now.Add(24*time.Hour + 2*time.Minute)
	if _, err := verify(link); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("after the lifetime: Verify = %v, want ErrLinkExpired", err)
	}
	other2, _ := base.Signed([]byte(strings.Repeat("j", 32)), 24*time.Hour, clock)
	if _, err := verify(other2.URL("a", "")); !errors.Is(err, ErrLinkInvalid) {
		t.Errorf("a link signed with another key: Verify = %v, want ErrLinkInvalid", err)
	}
	if _, err := base.Signed([]byte("short"), time.Hour, nil); err == nil {
		t.Error("a short key is accepted")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
