package access_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
)

func TestParsePrincipal(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "group:eng", want: "group:eng"},
		{in: "  Group:eng\t", want: "group:eng"},
		{in: "GROUP:Eng", want: "group:Eng"}, // names keep case
		{in: "group:5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13", want: "group:5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13"},
		{in: "group:/eng/backend", want: "group:/eng/backend"},
		{in: "user:auth0|64a1f", want: "user:auth0|64a1f"},
		{in: "user:AbC123", want: "user:AbC123"}, // subjects are case-sensitive
		{in: "user:Alice@Example.COM", want: "user:alice@example.com"},
		{in: "role:Reader", want: "role:Reader"},
		{in: "role:a:b", want: "role:a:b"},
		{in: "group:ingénieurs", want: "group:ingénieurs"},
		{in: "authenticated", want: "authenticated"},
		{in: "Authenticated", want: "authenticated"},
		{in: "NONE", want: "none"},
		{in: "group:" + strings.Repeat("x", 256), want: "group:" + strings.Repeat("x", 256)},

		{in: "", err: "empty principal; write group:NAME"},
		{in: "   ", err: "empty principal"},
		{in: "grp:eng", err: `"grp:eng": unknown kind "grp"; write group:NAME, user:SUBJECT-OR-EMAIL, role:NAME, authenticated or none`},
		{in: "eng", err: `"eng": missing kind; write group:NAME`},
		{in: "group:", err: `"group:": empty name after the kind`},
		{in: "group: eng", err: "whitespace"},
		{in: "group:a b", err: "whitespace"},
		{in: "group:a\u00a0b", err: "whitespace"},
		{in: "group:a\x00b", err: "U+0000"},
		{in: "group:a\u200bb", err: "U+200B"},
		{in: "group:a\xffb", err: "not valid UTF-8"},
		{in: "group:a,b", err: `contains ","`},
		{in: "group:a#b", err: `contains "#"`},
		{in: "group:" + strings.Repeat("x", 257), err: "257 bytes, more than 256"},
		{in: "authenticated:x", err: `"authenticated" takes no name`},
		{in: "none:x", err: `"none" takes no name`},
	} {
		got, err := access.ParsePrincipal(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParsePrincipal(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("ParsePrincipal(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseList(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "group:b, group:a ,user:x", want: "group:a,group:b,user:x"},
		{in: "group:a,Group:a,group:a", want: "group:a"},
		{in: "user:A@x.org,user:a@X.org", want: "user:a@x.org"},
		{in: "authenticated", want: "authenticated"},
		{in: "none", want: "none"},
		{in: "none,none", want: "none"},
		{in: "group:a,,group:b", err: "entry 2: empty principal"},
		{in: "group:a,", err: "entry 2: empty principal"},
		{in: "group:a,grp:b", err: `entry 2: "grp:b": unknown kind "grp"`},
		{in: "none,group:a", err: `"none" cannot be combined with other principals (group:a,none)`},
	} {
		got, err := access.ParseList(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseList(%q) = %q, %v; want error containing %q", tc.in, got, err, tc.err)
		case tc.err == "" && (err != nil || got.String() != tc.want):
			t.Errorf("ParseList(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if l, _ := access.ParseList(""); l != nil {
		t.Errorf("ParseList(\"\") = %#v, want nil", l)
	}
}

func TestParseListItems(t *testing.T) {
	l, err := access.ParseListItems([]string{"role:b", " group:a", "role:b"})
	if err != nil || !slices.Equal(l, access.List{"group:a", "role:b"}) {
		t.Errorf("got %q, %v", l, err)
	}
	if l, err := access.ParseListItems(nil); l != nil || err != nil {
		t.Errorf("no items: got %#v, %v; want nil, nil", l, err)
	}
	if _, err := access.ParseListItems([]string{"group:a", "group:b,group:c"}); err == nil ||
		!strings.Contains(err.Error(), `entry 2: "group:b,group:c": name contains ","`) {
		t.Errorf("comma in an item: %v", err)
	}
}

func TestParseDefault(t *testing.T) {
	for in, want := range map[string]access.Default{
		"": access.DefaultAuthenticated, "authenticated": access.DefaultAuthenticated,
		" Authenticated ": access.DefaultAuthenticated, "none": access.DefaultNone, "NONE": access.DefaultNone,
	} {
		if got, err := access.ParseDefault(in); err != nil || got != want {
			t.Errorf("ParseDefault(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := access.ParseDefault("public"); err == nil ||
		err.Error() != `DEFAULT_ACCESS="public": write authenticated (any verified caller reads unlisted documents) or none (nobody does)` {
		t.Errorf("ParseDefault(public): %v", err)
	}
}
