package openaistore

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/connectorhq/connector/internal/access"
)

func TestAccessKeys(t *testing.T) {
	for k, want := range map[string]bool{
		"access_0": true, "access_7": true, "access_8": false, "access_00": false, "access_-1": false,
		"access_": false, "access": false, "access_level": false, "x_access_0": false,
	} {
		if got := isAccessKey(k); got != want {
			t.Errorf("isAccessKey(%q) = %v, want %v", k, got, want)
		}
	}
	got := accessAttributes(access.List{"group:eng", "user:alice@example.com"})
	if len(got) != 2 || got["access_0"] != "group:eng" || got["access_1"] != "user:alice@example.com" {
		t.Errorf("attributes of a list: %v", got)
	}
	if got := accessAttributes(nil); len(got) != 1 || got["access_0"] != access.Unlisted {
		t.Errorf("attributes of no list: %v, want access_0=%s", got, access.Unlisted)
	}
}

func TestStoredTermsAndReadable(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string]string
		want  []string
	}{
		{attrs: nil, want: []string{access.Unlisted}},
		{attrs: map[string]string{"doc_id": "x", "access_level": "secret"}, want: []string{access.Unlisted}},
		{attrs: map[string]string{"access_0": "group:a", "access_1": "group:b"}, want: []string{"group:a", "group:b"}},
		{attrs: map[string]string{"access_1": "group:b"}, want: []string{"group:b"}}, // a gap is no reason to widen
		{attrs: map[string]string{"access_0": ""}, want: []string{""}},               // blank names nobody
	} {
		if got := storedTerms(tc.attrs); !slices.Equal(got, tc.want) {
			t.Errorf("storedTerms(%v) = %q, want %q", tc.attrs, got, tc.want)
		}
	}
	eng := []string{"authenticated", "group:eng", "unlisted", "user:u"}
	switch {
	case !readable(eng, false, []string{"group:hr", "group:eng"}):
		t.Error("a shared term must read")
	case readable(eng, false, []string{"group:hr"}), readable(eng, false, []string{"none"}), readable(eng, false, []string{""}):
		t.Error("no shared term must not read")
	case readable(nil, false, []string{access.Unlisted}):
		t.Error("no terms reads nothing")
	case !readable(nil, true, []string{"none"}):
		t.Error("everyone reads everything")
	}
}

// TestAccessFilterShape checks the filter against the API's documented
// request shape, as JSON: an "or" compound of "in" comparisons.
func TestAccessFilterShape(t *testing.T) {
	raw, err := json.Marshal(accessFilter([]string{"authenticated", "group:eng"}))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type    string `json:"type"`
		Filters []struct {
			Type  string `json:"type"`
			Key   string `json:"key"`
			Value []string
		} `json:"filters"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if got.Type != "or" || len(got.Filters) != MaxPrincipals {
		t.Fatalf("filter %s: want an or of %d comparisons", raw, MaxPrincipals)
	}
	for i, f := range got.Filters {
		if f.Type != "in" || f.Key != accessKey(i) || !slices.Equal(f.Value, []string{"authenticated", "group:eng"}) {
			t.Errorf("comparison %d: %+v", i, f)
		}
	}
}
