package access_test

import (
	"testing"

	"github.com/connectorhq/connector/internal/access"
)

func TestTree(t *testing.T) {
	list := func(s string) access.List {
		l, err := access.ParseList(s)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	tr := access.NewTree(list("group:all"))
	for folder, l := range map[string]string{
		"":          "group:root",
		"hr":        "group:hr",
		"hr/secret": "none",
		"eng/./x/":  "group:x", // cleaned to eng/x
	} {
		if err := tr.Set(folder, list(l)); err != nil {
			t.Fatal(err)
		}
	}
	for file, want := range map[string]string{
		"readme.md":              "group:root",
		"hr/pay.md":              "group:hr",
		"hr/secret/s.md":         "none",
		"hr/secret/deeper/d.md":  "none",
		"hr/secretive/s.md":      "group:hr", // a prefix is not a parent
		"eng/x/y/z.md":           "group:x",
		"eng/y.md":               "group:root",
		"./hr/pay.md":            "group:hr",
		"hr/secret/../pay.md":    "group:hr",
		"../hr/secret/s.md":      "none", // outside the root: hidden
		"/hr/secret/s.md":        "none",
		"hr/../../x.md":          "none",
		"":                       "group:root",
		"hr":                     "group:root", // a document named hr at the root
		"eng/x":                  "group:root",
		"eng/x/a.md":             "group:x",
		"eng/x/../../hr/a.md":    "group:hr",
		"hr/secret/./../pay2.md": "group:hr",
	} {
		if got, ok := tr.For(file); !ok || got.String() != want {
			t.Errorf("For(%q) = %q, %v; want %q", file, got, ok, want)
		}
	}

	// Without a root list, the run-wide list applies, then nothing.
	if err := tr.Set("", nil); err != nil {
		t.Fatal(err)
	}
	if got, ok := tr.For("eng/y.md"); !ok || got.String() != "group:all" {
		t.Errorf("run-wide: got %q, %v", got, ok)
	}
	if got, ok := access.NewTree(nil).For("eng/y.md"); ok || got != nil {
		t.Errorf("no lists: got %q, %v; want nil, false", got, ok)
	}

	for _, bad := range []string{"/abs", "..", "../up", "a/../../up"} {
		if err := tr.Set(bad, list("group:x")); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
