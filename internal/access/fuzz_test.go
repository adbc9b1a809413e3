package access_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
)

// checkList asserts the invariants of any list the parsers return.
func checkList(t *testing.T, l access.List) {
	t.Helper()
	if !slices.IsSorted(l) || len(slices.Compact(slices.Clone(l))) != len(l) {
		t.Fatalf("list %q not sorted and deduplicated", l)
	}
	if len(l) > 1 && slices.Contains(l, access.None) {
		t.Fatalf("list %q combines none with others", l)
	}
	for _, p := range l {
		if q, err := access.ParsePrincipal(string(p)); err != nil || q != p {
			t.Fatalf("principal %q re-parses to %q, %v", p, q, err)
		}
	}
	back, err := access.ParseList(l.String())
	if err != nil || !slices.Equal(back, l) {
		t.Fatalf("ParseList(%q) = %q, %v; want the list back", l.String(), back, err)
	}
}

func FuzzParsePrincipal(f *testing.F) {
	for _, s := range []string{"group:eng", " Role:x ", "user:A@B.c", "authenticated", "NONE", "grp:x", "user:", "group:a b", "group:\u0130@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := access.ParsePrincipal(s)
		if err != nil {
			return
		}
		if q, err := access.ParsePrincipal(string(p)); err != nil || q != p {
			t.Fatalf("ParsePrincipal(%q) = %q, which re-parses to %q, %v", s, p, q, err)
		}
		checkList(t, access.List{p})
	})
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"", "group:b,group:a", "none", "none,group:a", "a,,b", "user:X@Y, user:x@y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := access.ParseList(s)
		if err == nil {
			checkList(t, l)
		}
	})
}

func FuzzParseFile(f *testing.F) {
	for _, s := range []string{"", "group:hr\n", "\uFEFFgroup:a # c\r\nrole:b\n", "# only\n", "none\n", "grp:x\n", "group:a\nnone"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := access.ParseFile("f", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(l) == 0 {
			t.Fatal("a parsed file gave an empty list; want at least none")
		}
		checkList(t, l)
		// Writing the list one a line reads back the same.
		back, err := access.ParseFile("f", strings.NewReader(strings.ReplaceAll(l.String(), ",", "\n")))
		if err != nil || !slices.Equal(back, l) {
			t.Fatalf("rewritten file gives %q, %v; want %q", back, err, l)
		}
	})
}

func FuzzMayRead(f *testing.F) {
	f.Add("group:eng", "sub", "a@b.c", "eng hr", "admin")
	f.Add("", "", "", "", "")
	f.Add("none", "x", "", "x", "x")
	f.Fuzz(func(t *testing.T, list, sub, email, groups, roles string) {
		l, err := access.ParseList(list)
		if err != nil {
			return
		}
		c := access.NewCaller(sub, email, access.ClaimValues(groups), access.ClaimValues(roles))
		none := slices.Contains(l, access.None)
		for _, def := range []access.Default{access.DefaultAuthenticated, access.DefaultNone} {
			if !access.Everyone().MayRead(l, def) {
				t.Fatalf("Everyone() may not read %q", l)
			}
			if (access.Caller{}).MayRead(l, def) {
				t.Fatalf("the zero Caller may read %q", l)
			}
			// A verified caller reads exactly what it shares a principal with.
			want := !none && slices.ContainsFunc(c.Principals(), func(p access.Principal) bool {
				return slices.Contains(l, p) || len(l) == 0 && def == access.DefaultAuthenticated && p == access.Authenticated
			})
			if got := c.MayRead(l, def); got != want {
				t.Fatalf("MayRead(%q, %v) = %v for %q", l, def, got, c.Principals())
			}
			// A store's filter selects exactly what MayRead allows.
			terms, all := c.Terms(def)
			if got := all || slices.ContainsFunc(l.Terms(), func(s string) bool { return slices.Contains(terms, s) }); got != want {
				t.Fatalf("Terms filter %q against %q = %v, MayRead = %v", terms, l.Terms(), got, want)
			}
		}
	})
}
