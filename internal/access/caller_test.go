package access_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
)

// payload decodes a token payload as a JWT library hands it over.
func payload(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClaimValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want []string
	}{
		{"entra groups", payload(t, `{"groups":["5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13","0c9d7e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5"]}`)["groups"],
			[]string{"5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13", "0c9d7e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5"}},
		{"entra roles", payload(t, `{"roles":["Docs.Read"]}`)["roles"], []string{"Docs.Read"}},
		{"okta groups", payload(t, `{"groups":["Everyone","Engineering"]}`)["groups"], []string{"Everyone", "Engineering"}},
		{"keycloak groups", payload(t, `{"groups":["/eng","/eng/backend"]}`)["groups"], []string{"/eng", "/eng/backend"}},
		{"auth0 namespaced", payload(t, `{"https://example.com/roles":["admin","reader"]}`)["https://example.com/roles"], []string{"admin", "reader"}},
		{"google has none", payload(t, `{"sub":"1234","email":"a@example.com"}`)["groups"], nil},
		{"space-separated", "eng  hr\tops", []string{"eng", "hr", "ops"}},
		{"comma-separated", "eng, hr,,ops,", []string{"eng", "hr", "ops"}},
		{"blank string", "  ", nil},
		{"mixed []any", []any{"eng", 7.0, nil, true, " hr ", "", map[string]any{"x": "y"}}, []string{"eng", "hr"}},
		{"numbers only", payload(t, `{"groups":[1,2]}`)["groups"], nil},
		{"number", 42.0, nil},
		{"[]string", []string{"a", " ", "b "}, []string{"a", "b"}},
		{"raw array", json.RawMessage(`["eng","hr"]`), []string{"eng", "hr"}},
		{"raw string", json.RawMessage(`"eng hr"`), []string{"eng", "hr"}},
		{"raw garbage", json.RawMessage(`{`), nil},
		{"nil", nil, nil},
	} {
		if got := access.ClaimValues(tc.v); !slices.Equal(got, tc.want) {
			t.Errorf("%s: ClaimValues(%#v) = %q, want %q", tc.name, tc.v, got, tc.want)
		}
	}
}

func TestNewCaller(t *testing.T) {
	c := access.NewCaller("sub-1", "Alice@Example.com", []string{"eng", "eng", "has space", ""}, []string{"admin"})
	want := []access.Principal{"authenticated", "group:eng", "role:admin", "user:alice@example.com", "user:sub-1"}
	if got := c.Principals(); !slices.Equal(got, want) {
		t.Errorf("Principals() = %q, want %q", got, want)
	}
	if got := access.NewCaller("", "", nil, nil).Principals(); !slices.Equal(got, []access.Principal{"authenticated"}) {
		t.Errorf("no claims: %q", got)
	}
	if c.IsEveryone() || !access.Everyone().IsEveryone() {
		t.Error("IsEveryone wrong")
	}
}

func TestMayRead(t *testing.T) {
	alice := access.NewCaller("sub-alice", "alice@example.com", []string{"eng"}, []string{"reader"})
	bob := access.NewCaller("sub-bob", "", nil, nil)
	callers := map[string]access.Caller{
		"everyone": access.Everyone(),
		"alice":    alice,
		"bob":      bob,
		"zero":     {},
	}
	auth, none := access.DefaultAuthenticated, access.DefaultNone
	for _, tc := range []struct {
		list string
		def  access.Default
		may  string // callers that may read, space-separated
	}{
		{"", auth, "everyone alice bob"},
		{"", none, "everyone"},
		{"", 0, "everyone"}, // an unset Default fails closed
		{"authenticated", none, "everyone alice bob"},
		{"group:eng", auth, "everyone alice"},
		{"group:Eng", auth, "everyone"}, // group names are case-sensitive
		{"group:ops", auth, "everyone"},
		{"user:sub-alice", none, "everyone alice"},
		{"user:ALICE@example.com", none, "everyone alice"},
		{"user:sub-bob,role:reader", none, "everyone alice bob"},
		{"role:reader", auth, "everyone alice"},
		{"group:reader", auth, "everyone"}, // kinds do not mix
		{"none", auth, "everyone"},         // with auth off, everything is public
	} {
		l, err := access.ParseList(tc.list)
		if err != nil {
			t.Fatal(err)
		}
		for name, c := range callers {
			want := slices.Contains(strings.Fields(tc.may), name)
			if got := c.MayRead(l, tc.def); got != want {
				t.Errorf("%s.MayRead(%q, %v) = %v, want %v", name, tc.list, tc.def, got, want)
			}
		}
	}
}

func TestLogID(t *testing.T) {
	a := access.NewCaller("sub-1", "a@example.com", []string{"x", "y"}, nil)
	b := access.NewCaller("sub-1", "A@example.com", []string{"y", "x", "x"}, nil)
	c := access.NewCaller("sub-2", "a@example.com", []string{"x", "y"}, nil)
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(a.LogID()) {
		t.Errorf("LogID() = %q, want 12 hex digits", a.LogID())
	}
	if a.LogID() != b.LogID() || a.LogID() == c.LogID() {
		t.Errorf("LogIDs %s %s %s: want first two equal, third different", a.LogID(), b.LogID(), c.LogID())
	}
	if strings.Contains(a.LogID(), "sub-1") || access.Everyone().LogID() != "everyone" {
		t.Errorf("LogID leaks or Everyone wrong: %q %q", a.LogID(), access.Everyone().LogID())
	}
}

func TestCallerTerms(t *testing.T) {
	c := access.NewCaller("u1", "", []string{"eng"}, nil)
	terms, all := c.Terms(access.DefaultAuthenticated)
	if all || !slices.Equal(terms, []string{"authenticated", "group:eng", "unlisted", "user:u1"}) {
		t.Errorf("Terms(authenticated) = %q, %v", terms, all)
	}
	terms, _ = c.Terms(access.DefaultNone)
	if slices.Contains(terms, access.Unlisted) {
		t.Errorf("Terms(none) = %q: names unlisted documents", terms)
	}
	if terms, all := access.Everyone().Terms(access.DefaultNone); !all || terms != nil {
		t.Errorf("Everyone().Terms = %q, %v; want all", terms, all)
	}
	if terms, all := (access.Caller{}).Terms(access.DefaultAuthenticated); all || len(terms) != 0 {
		t.Errorf("zero Caller's Terms = %q, %v; want none", terms, all)
	}
	if got := access.List(nil).Terms(); !slices.Equal(got, []string{access.Unlisted}) {
		t.Errorf("empty List's Terms = %q", got)
	}
}

func TestContext(t *testing.T) {
	if c := access.FromContext(context.Background()); c.MayRead(nil, access.DefaultAuthenticated) {
		t.Error("a context without a caller reads unlisted documents")
	}
	ctx := access.NewContext(context.Background(), access.Everyone())
	if !access.FromContext(ctx).IsEveryone() {
		t.Error("FromContext lost the caller")
	}
}

func TestCallerWith(t *testing.T) {
	c := access.NewCaller("apikey:1a2b3c4d", "", nil, nil).With("group:eng", "none", "role:admin", "group:eng")
	want := []access.Principal{"authenticated", "group:eng", "role:admin", "user:apikey:1a2b3c4d"}
	if got := c.Principals(); !slices.Equal(got, want) {
		t.Errorf("Principals() = %q, want %q", got, want)
	}
	if !access.Everyone().With("group:eng").IsEveryone() {
		t.Error("Everyone().With is no longer Everyone")
	}
	if got := (access.Caller{}).LogID(); got != "nobody" {
		t.Errorf("zero Caller LogID() = %q, want nobody", got)
	}
}
