package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestQueryBlankArgument: a blank query or id on the command line is a
// usage error naming what to give, as a missing one is. The search tool
// answers a blank query with no results, which a person at a shell (or a
// script with an empty variable) would take for an empty index.
func TestQueryBlankArgument(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "  "}, `connector search: give a query, e.g. connector search "how do I connect ChatGPT"`},
		{[]string{"search", "", "\t"}, `connector search: give a query`},
		{[]string{"fetch", " "}, "connector fetch: give exactly one document id (from connector search)"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{tt.args[0], "--index", dir + "/index"}, tt.args[1:]...)
		code := run(t.Context(), args, &stdout, &stderr, func(string) string { return "" })
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout.String(), stderr.String(), exitUsage, tt.want)
		}
	}
}
