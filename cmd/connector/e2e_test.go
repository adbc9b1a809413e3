package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/cli/clitest"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// These tests build the connector binary and drive it as users and clients
// do: as a process on a free port, over real HTTP.

var binary string // path of the built connector

func TestMain(m *testing.M) { clitest.Main(m, "connector", &binary) }

// plainURL returns a search result's URL without the fragment that points
// at the matched passage: the URL fetch returns.
func plainURL(u string) string {
	plain, _, _ := strings.Cut(u, "#")
	return plain
}

// proc is a running connector serve.
type proc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
}

func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// serve starts `connector serve` on a free loopback port in dir with the
// environment given as KEY=VALUE pairs, and waits until it listens.
// startProcess starts cmd and returns what its Wait returns; when the test
// ends the process gets SIGTERM, and is killed if it has not stopped within
// grace.
func startProcess(t *testing.T, cmd *exec.Cmd, grace time.Duration) <-chan error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(grace):
			cmd.Process.Kill()
		}
	})
	return done
}

func serve(t testing.TB, dir string, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "LOG_FORMAT=json", "LOG_LEVEL=debug")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, done: make(chan error, 1)}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				listening <- rec.Addr
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case addr := <-listening:
		p.base = "http://" + addr
	case err := <-p.done:
		t.Fatalf("connector exited before listening: %v\n%s", err, p.log())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("connector did not listen within 60s\n%s", p.log())
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("server log:\n%s", p.log())
		}
	})
	return p
}

// runCLI runs a connector command and returns stdout, stderr and exit code.
func runCLI(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run(t, binary, dir, env, args...)
}

func connectClient(t testing.TB, transport mcp.Transport) *mcp.ClientSession {
	t.Helper()
	// The SSE transport ties its stream to this context: it must live as long as the session.
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil).Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

type searchOut struct {
	Results []struct{ ID, Title, URL, Text string } `json:"results"`
}

type fetchOut struct {
	ID, Title, Text, URL string
	Metadata             map[string]string
}

func callJSON(t testing.TB, cs *mcp.ClientSession, tool string, args map[string]any, out any) (isError bool, text string) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: protocol error %v (tool errors must be isError results)", tool, args, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items, want exactly one", tool, len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content %T, want text", tool, res.Content[0])
	}
	if !res.IsError && out != nil {
		if err := json.Unmarshal([]byte(tc.Text), out); err != nil {
			t.Fatalf("%s: text is not JSON: %v\n%s", tool, err, tc.Text)
		}
	}
	return res.IsError, tc.Text
}

// TestFreshMachine is the README's promise: serve with no index and no keys
// builds the sample index and answers both tools on all four paths, with
// citable URLs.
func TestFreshMachine(t *testing.T) {
	dir := t.TempDir()
	p := serve(t, dir, "OPENAI_API_KEY=sk-e2e-must-not-leak")
	transports := map[string]mcp.Transport{
		"/mcp":  &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"},
		"/mcp/": &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp/"},
		"/sse":  &mcp.SSEClientTransport{Endpoint: p.base + "/sse"},
		"/sse/": &mcp.SSEClientTransport{Endpoint: p.base + "/sse/"},
	}
	for path, transport := range transports {
		t.Run(path, func(t *testing.T) {
			cs := connectClient(t, transport)
			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			for _, tool := range tools.Tools {
				names[tool.Name] = true
				if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint || tool.Annotations.DestructiveHint == nil ||
					tool.Annotations.OpenWorldHint == nil || !tool.Annotations.IdempotentHint {
					t.Errorf("%s annotations %+v", tool.Name, tool.Annotations)
				}
				schema, _ := json.Marshal(tool.InputSchema)
				want := map[string]string{"search": "query", "fetch": "id"}[tool.Name]
				var s struct {
					Properties           map[string]struct{ Type string }
					Required             []string
					AdditionalProperties *bool
				}
				json.Unmarshal(schema, &s)
				if len(s.Properties) != 1 || s.Properties[want].Type != "string" || len(s.Required) != 1 ||
					s.Required[0] != want || s.AdditionalProperties == nil || *s.AdditionalProperties {
					t.Errorf("%s input schema %s, want exactly {%q: string}", tool.Name, schema, want)
				}
			}
			if len(tools.Tools) != 2 || !names["search"] || !names["fetch"] {
				t.Fatalf("tools = %v, want exactly search and fetch", names)
			}

			var found searchOut
			if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "connect ChatGPT custom connector"}, &found); isErr || len(found.Results) == 0 {
				t.Fatalf("search: %s", text)
			}
			top := found.Results[0]
			if !strings.HasPrefix(top.URL, p.base+"/docs/") || top.Title == "" || top.Text == "" {
				t.Errorf("top result %+v: want a title, a snippet and a citable URL under %s/docs/", top, p.base)
			}
			var doc fetchOut
			if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": top.ID}, &doc); isErr {
				t.Fatalf("fetch %s: %s", top.ID, text)
			}
			if doc.ID != top.ID || doc.URL != plainURL(top.URL) || strings.Contains(doc.URL, "#") || len(doc.Text) < len(top.Text)/2 || doc.Metadata == nil {
				t.Errorf("fetched %s: id %q url %q, %d chars", top.ID, doc.ID, doc.URL, len(doc.Text))
			}
			if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": top.URL}, &doc); isErr || doc.ID != top.ID {
				t.Errorf("fetch by url: %s", text)
			}
			if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": "no/such/doc"}, nil); !isErr || !strings.Contains(text, "search") {
				t.Errorf("unknown id: %s", text)
			}
			var empty searchOut
			if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "   "}, &empty); isErr || text != `{"results":[]}` {
				t.Errorf("blank query: %s, want {\"results\":[]}", text)
			}
			if isErr, text := callJSON(t, cs, "search", map[string]any{"query": strings.Repeat("long ", 500)}, nil); !isErr || !strings.Contains(text, "2048") {
				t.Errorf("oversized query: %s", text)
			}
		})
	}

	// The citation URL opens for a person.
	var found searchOut
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	callJSON(t, cs, "search", map[string]any{"query": "citation"}, &found)
	resp, err := http.Get(found.Results[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<h1>") {
		t.Errorf("GET %s: %d", found.Results[0].URL, resp.StatusCode)
	}

	// A session-less client that accepts only JSON (the Responses API's quirk).
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"tunnel"}}}`
	req, _ := http.NewRequest(http.MethodPost, p.base+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var rpc struct {
		Result struct {
			Content []struct{ Type, Text string }
		}
	}
	if resp.StatusCode != 200 || json.Unmarshal(raw, &rpc) != nil || len(rpc.Result.Content) != 1 {
		t.Errorf("session-less JSON call: %d %s", resp.StatusCode, raw)
	}

	for _, check := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(p.base + check)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("GET %s: %v %v", check, resp, err)
		}
	}
	if strings.Contains(p.log(), "sk-e2e-must-not-leak") {
		t.Error("the API key appears in the log")
	}
	if !strings.Contains(p.log(), `"msg":"tool call"`) || !strings.Contains(p.log(), `"query":`) {
		t.Error("no tool-call log lines (with the query, at debug level)")
	}
}

func TestGracefulStop(t *testing.T) {
	p := serve(t, t.TempDir())
	cs := connectClient(t, &mcp.SSEClientTransport{Endpoint: p.base + "/sse/"})
	callJSON(t, cs, "search", map[string]any{"query": "tunnel"}, nil)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.log())
		}
		p.done <- nil
	case <-time.After(20 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping with an idle SSE session took %v", d)
	}
}

// writeFiles creates files under dir from a map of relative path to content.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIndexCommand: index a folder, update it, and see a running server
// follow each run.
func TestIndexCommand(t *testing.T) {
	work := t.TempDir()
	docs := filepath.Join(work, "handbook")
	writeFiles(t, docs, map[string]string{
		"intro.md":       "---\ntitle: Welcome handbook\nurl: https://intranet.example.com/welcome\n---\nThe quokka policy applies to everyone.",
		"ops/oncall.txt": "On-call rotation\n\nThe pager rotates weekly between platform engineers.",
		"page.html":      "<html><head><title>Expense rules</title><script>var hidden='zebra';</script></head><body><h1>Expenses</h1><p>Receipts are needed above fifty euros.</p></body></html>",
		"records.jsonl":  `{"id":"pol-1","title":"Travel","text":"Book trains when the trip is under four hours."}` + "\n" + `{"id":"pol-2","text":"Laptops are replaced every three years."}` + "\n" + `not json` + "\n",
		"logo.png":       "\x89PNG\r\n\x1a\n\x00\x00binary",
	})
	env := []string{"INDEX_DIR=" + filepath.Join(work, "index"), "LOG_FORMAT=json"}

	stdout, stderr, code := runCLI(t, work, env, "index", "handbook")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d because one record is malformed\n%s%s", code, exitFailure, stdout, stderr)
	}
	if !strings.Contains(stdout, "5 documents (5 added") || !strings.Contains(stdout, "0 warnings, 1 error;") {
		t.Errorf("summary: %s", stdout)
	}
	for _, want := range []string{"records.jsonl:3", "logo.png", "unsupported"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}

	p := serve(t, work, append(env, "INDEX_RELOAD_INTERVAL=100ms")...)
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	var found searchOut
	callJSON(t, cs, "search", map[string]any{"query": "quokka"}, &found)
	if len(found.Results) != 1 || found.Results[0].ID != "handbook/intro.md" || plainURL(found.Results[0].URL) != "https://intranet.example.com/welcome" {
		t.Fatalf("search quokka: %+v", found)
	}
	callJSON(t, cs, "search", map[string]any{"query": "zebra"}, &found)
	if len(found.Results) != 0 {
		t.Errorf("script text was indexed: %+v", found)
	}

	// Change one file, delete one, add one; re-run while the server runs.
	writeFiles(t, docs, map[string]string{
		"intro.md":      "---\ntitle: Welcome handbook\n---\nThe wombat policy replaced the old one.",
		"new/faq.md":    "# Parking\n\nVisitors park on level two.",
		"records.jsonl": `{"id":"pol-1","title":"Travel","text":"Book trains when the trip is under four hours."}` + "\n" + `{"id":"pol-2","text":"Laptops are replaced every three years."}` + "\n",
	})
	os.Remove(filepath.Join(docs, "ops", "oncall.txt"))
	stdout, stderr, code = runCLI(t, work, env, "index", "handbook")
	if code != exitOK {
		t.Fatalf("second run exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"1 added", "1 updated", "3 unchanged", "1 deleted"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary %q lacks %q", stdout, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		callJSON(t, cs, "search", map[string]any{"query": "wombat parking pager"}, &found)
		ids := map[string]bool{}
		for _, r := range found.Results {
			ids[r.ID] = true
		}
		if ids["handbook/intro.md"] && ids["handbook/new/faq.md"] && !ids["handbook/ops/oncall.txt"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running server did not pick up the new index: %+v", found)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The document lost its own URL: its citation is now the server's view.
	var doc fetchOut
	callJSON(t, cs, "fetch", map[string]any{"id": "handbook/intro.md"}, &doc)
	if doc.URL != p.base+"/docs/handbook/intro.md" {
		t.Errorf("url %q", doc.URL)
	}

	// search and fetch from the command line print exactly the tools' JSON.
	out, _, code := runCLI(t, work, append(env, "ADDR="+strings.TrimPrefix(p.base, "http://")), "search", "wombat")
	_, text := callJSON(t, cs, "search", map[string]any{"query": "wombat"}, nil)
	if code != 0 || strings.TrimSpace(out) != text {
		t.Errorf("connector search printed\n%s\nthe tool returned\n%s", out, text)
	}
	out, _, code = runCLI(t, work, append(env, "ADDR="+strings.TrimPrefix(p.base, "http://")), "fetch", "pol-2")
	_, text = callJSON(t, cs, "fetch", map[string]any{"id": "pol-2"}, nil)
	if code != 0 || strings.TrimSpace(out) != text {
		t.Errorf("connector fetch printed\n%s\nthe tool returned\n%s", out, text)
	}
	if _, stderr, code := runCLI(t, work, env, "fetch", "nope"); code != exitNotFound || !strings.Contains(stderr, "search") {
		t.Errorf("fetch of an unknown id: exit %d %s", code, stderr)
	}
}

func TestCLIUsage(t *testing.T) {
	dir := t.TempDir()
	if out, _, code := runCLI(t, dir, nil, "version"); code != 0 || !strings.HasPrefix(out, "connector ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, cmd := range []string{"serve", "index", "search", "fetch"} {
		_, stderr, code := runCLI(t, dir, nil, cmd, "-h")
		if code != 0 || !strings.Contains(stderr, "Usage: connector "+cmd) {
			t.Errorf("%s -h: exit %d\n%s", cmd, code, stderr)
		}
	}
	_, stderr, code := runCLI(t, dir, []string{"MAX_RESULTS=0", "LOG_LEVEL=loud", "ADDR=nowhere"}, "serve")
	if code != exitUsage {
		t.Errorf("bad config: exit %d, want %d", code, exitUsage)
	}
	for _, name := range []string{"MAX_RESULTS", "LOG_LEVEL", "ADDR"} {
		if !strings.Contains(stderr, name) {
			t.Errorf("config errors do not name %s:\n%s", name, stderr)
		}
	}
	if _, stderr, code := runCLI(t, dir, nil, "index", "does-not-exist"); code != exitUsage || !strings.Contains(stderr, "does-not-exist") {
		t.Errorf("index of a missing path: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Error("a failed command created an index folder")
	}
	// The benchmark is its own command now; old instructions say where.
	if _, stderr, code := runCLI(t, dir, nil, "bench", "../shared/data/scifact"); code != exitUsage || !strings.Contains(stderr, "go run ./cmd/connector-bench") {
		t.Errorf("bench: exit %d %q, want %d and a pointer to cmd/connector-bench", code, stderr, exitUsage)
	}
	if _, _, code := runCLI(t, dir, nil, "frobnicate"); code != exitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}

// TestKilledIndexRunChangesNothing: SIGKILL in the middle of an index run
// leaves the previous index serving, and the next run completes.
func TestKilledIndexRunChangesNothing(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{"small/a.md": "# Alpha\n\nThe first document mentions aardvarks."})
	env := []string{"INDEX_DIR=" + filepath.Join(work, "index"), "LOG_FORMAT=json"}
	if out, stderr, code := runCLI(t, work, env, "index", "small"); code != 0 {
		t.Fatalf("first run: %d %s %s", code, out, stderr)
	}

	// A collection big enough that indexing takes a few seconds.
	var b strings.Builder
	for i := range 60000 {
		fmt.Fprintf(&b, `{"id":"r%d","title":"Record %d","text":"record %d talks about zebras and %s"}`+"\n", i, i, i, strings.Repeat("filler words ", 20))
	}
	writeFiles(t, work, map[string]string{"big/records.jsonl": b.String()})
	cmd := exec.Command(binary, "index", "big")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()

	out, stderr, code := runCLI(t, work, env, "search", "aardvarks")
	if code != 0 || !strings.Contains(out, "small/a.md") {
		t.Fatalf("after a killed run the index must still serve the previous state: %d %s %s", code, out, stderr)
	}
	if out, _, _ := runCLI(t, work, env, "search", "zebras"); strings.Contains(out, `"id":"r`) {
		t.Fatalf("the killed run's documents are served (was it killed too late?): %s", out)
	}
	out, stderr, code = runCLI(t, work, env, "index", "big")
	if code != 0 || !strings.Contains(out, "60001 documents") {
		t.Fatalf("run after the kill: %d %s %s", code, out, stderr)
	}
	gens, _ := filepath.Glob(filepath.Join(work, "index", "gen-*"))
	if len(gens) > 2 {
		t.Errorf("generations left behind: %v", gens)
	}
}

// TestOpenAIStore indexes into a vector store and serves from it, with the
// binary talking to a stand-in for the OpenAI API (OPENAI_BASE_URL).
func TestOpenAIStore(t *testing.T) {
	const apiKey = "sk-e2e-openai-secret"
	api := openaitest.NewServer(t, apiKey)
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"handbook/intro.md":      "---\ntitle: Welcome handbook\nurl: https://intranet.example.com/welcome\n---\nThe quokka policy applies to everyone.",
		"handbook/ops/oncall.md": "# On-call rotation\n\nThe pager rotates weekly between platform engineers.",
	})
	env := []string{"OPENAI_API_KEY=" + apiKey, "OPENAI_BASE_URL=" + api.URL(), "LOG_FORMAT=json", "STORE=openai"}

	out, stderr, code := runCLI(t, work, env, "index", "handbook")
	if code != 0 || !strings.Contains(out, "2 added") || !strings.Contains(out, "VECTOR_STORE_ID=vs_") {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, stderr)
	}
	vs := out[strings.LastIndex(out, "VECTOR_STORE_ID=")+len("VECTOR_STORE_ID="):]
	vs = strings.TrimSpace(vs)
	env = append(env, "VECTOR_STORE_ID="+vs)
	if out, _, code := runCLI(t, work, env, "index", "handbook"); code != 0 || !strings.Contains(out, "2 unchanged") {
		t.Fatalf("second index run: %d %s", code, out)
	}

	p := serve(t, work, env...)
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	var found searchOut
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "quokka policy"}, &found); isErr || len(found.Results) == 0 {
		t.Fatalf("search: %s", text)
	}
	top := found.Results[0]
	if top.ID != "handbook/intro.md" || !strings.HasPrefix(top.URL, "https://intranet.example.com/welcome#:~:text=") || top.Title != "Welcome handbook" {
		t.Errorf("top result %+v", top)
	}
	var doc fetchOut
	if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": "handbook/ops/oncall.md"}, &doc); isErr {
		t.Fatalf("fetch: %s", text)
	}
	if !strings.Contains(doc.Text, "pager rotates weekly") || doc.URL != p.base+"/docs/handbook/ops/oncall.md" {
		t.Errorf("fetched %+v", doc)
	}
	if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": "handbook/none.md"}, nil); !isErr || !strings.Contains(text, "search") {
		t.Errorf("unknown id: %s", text)
	}
	resp, err := http.Get(p.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"backend":"openai"`) || strings.Contains(string(body), apiKey) {
		t.Errorf("readyz %d %s", resp.StatusCode, body)
	}
	if strings.Contains(p.log(), apiKey) {
		t.Error("the API key appears in the server log")
	}

	// A wrong key: the server still starts, says why in the log, and the
	// tools answer with an error the model can relay.
	bad := serve(t, work, append(env, "OPENAI_API_KEY=sk-wrong")...)
	cs = connectClient(t, &mcp.StreamableClientTransport{Endpoint: bad.base + "/mcp"})
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "quokka"}, nil); !isErr || !strings.Contains(text, "credentials were rejected") {
		t.Errorf("search with a wrong key: %s", text)
	}
	if !strings.Contains(bad.log(), "OPENAI_API_KEY") || strings.Contains(bad.log(), "sk-wrong") {
		t.Errorf("log must name OPENAI_API_KEY without showing it:\n%s", bad.log())
	}

	// Configuration errors name the variable.
	_, stderr, code = runCLI(t, work, []string{"STORE=openai", "OPENAI_API_KEY=", "VECTOR_STORE_ID="}, "serve")
	if code != exitUsage || !strings.Contains(stderr, "OPENAI_API_KEY") || !strings.Contains(stderr, "VECTOR_STORE_ID") {
		t.Errorf("missing key and store: exit %d %s", code, stderr)
	}
}

// TestCLIHelp: --help lists the commands, one line each; "help CMD" and
// "CMD -h" print the command's flags, each with a value name help may show
// (never a fragment of its description), and only the flags that apply.
func TestCLIHelp(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, _, code := runCLI(t, dir, nil, args...)
		if code != 0 {
			t.Errorf("%v: exit %d", args, code)
		}
		for _, cmd := range []string{"serve", "index", "search", "fetch", "healthcheck", "version", "help"} {
			n := 0
			for line := range strings.Lines(out) {
				if strings.HasPrefix(line, "  connector ") && (strings.Contains(line, " "+cmd+" ") || strings.Contains(line, "["+cmd+"]")) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%v lists %q on %d lines, want 1:\n%s", args, cmd, n, out)
			}
		}
	}
	if _, stderr, code := runCLI(t, dir, nil, "help", "frobnicate"); code != exitUsage || !strings.Contains(stderr, "frobnicate") {
		t.Errorf("help frobnicate: exit %d %q", code, stderr)
	}

	scopes := map[string]scope{"serve": forServe, "index": forIndex, "search": forQuery, "fetch": forQuery}
	extra := map[string][]string{"serve": {"env-file"}, "index": {"access", "env-file", "prune"}, "search": {"as", "env-file"},
		"fetch": {"as", "env-file"}, "healthcheck": {"addr", "env-file", "ready", "timeout"}}
	for _, cmd := range []string{"serve", "index", "search", "fetch", "healthcheck"} {
		_, dashH, code := runCLI(t, dir, nil, cmd, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d", cmd, code)
		}
		helpCmd, _, code := runCLI(t, dir, nil, "help", cmd)
		if code != 0 || helpCmd != dashH {
			t.Errorf("help %s: exit %d, output\n%s\nnot that of %s -h:\n%s", cmd, code, helpCmd, cmd, dashH)
		}
		want := slices.Clone(extra[cmd])
		for _, s := range settings {
			if s.flag != "" && s.scope&scopes[cmd] != 0 {
				want = append(want, s.flag)
			}
		}
		var got []string
		for line := range strings.Lines(dashH) {
			rest, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "  -")
			if !ok {
				continue
			}
			name, value, _ := strings.Cut(rest, " ")
			got = append(got, name)
			if !isFlagValueName(value) || strings.Contains(value, "`") {
				t.Errorf("%s -h: -%s shows value name %q", cmd, name, value)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s -h shows flags %q, want %q", cmd, got, want)
		}
		if scopes[cmd] == forQuery && strings.Contains(dashH, "listen") {
			t.Errorf("%s -h describes a listen address:\n%s", cmd, dashH)
		}
	}
}

// TestCLIAddressChecked: a bad address stops serve at the configuration
// step, naming the setting, not at listening.
func TestCLIAddressChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		args []string
		name string
	}{
		{args: []string{"--addr=:99999"}, name: "--addr"},
		{env: []string{"ADDR=:99999"}, name: "ADDR"},
		{env: []string{"METRICS_ADDR=:99999"}, name: "METRICS_ADDR"},
		{args: []string{"--metrics-addr", "127.0.0.1:99999"}, name: "--metrics-addr"},
	} {
		_, stderr, code := runCLI(t, dir, tc.env, append([]string{"serve"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, "invalid configuration") || !strings.Contains(stderr, tc.name+":") ||
			!strings.Contains(stderr, "65535") || !strings.Contains(stderr, "e.g.") || strings.Contains(stderr, "another server") {
			t.Errorf("%v %v: exit %d, want %d and a configuration error naming %s:\n%s", tc.env, tc.args, code, exitUsage, tc.name, stderr)
		}
	}
}

// TestNewcomerPath is a newcomer's first hour: the server answers from the
// sample at once; after `connector index` of their own notes it answers
// from those only, never from the sample.
func TestNewcomerPath(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"notes/vpn.md":     "# Office VPN\n\nThe VPN tunnel to the office opens with the blue token.",
		"notes/cellar.md":  "# Wine cellar\n\nThe cellar tunnel floods in spring; keep the door shut.",
		"notes/parking.md": "# Parking\n\nVisitors park on level two, past the tunnel exit.",
	})
	search := func(p *proc, query string) []string {
		t.Helper()
		cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
		var found searchOut
		if isErr, text := callJSON(t, cs, "search", map[string]any{"query": query}, &found); isErr {
			t.Fatalf("search %q: %s", query, text)
		}
		ids := make([]string, len(found.Results))
		for i, r := range found.Results {
			ids[i] = r.ID
		}
		return ids
	}
	const sampleDoc = "sample/guides/tunnels.md"

	// First start: no index, so the server builds the sample's.
	p := serve(t, work)
	if ids := search(p, "tunnel"); !slices.Contains(ids, sampleDoc) {
		t.Fatalf("first start: search tunnel = %v, want %s among them", ids, sampleDoc)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("stop: %v\n%s", err, p.log())
		}
		p.done <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not stop on SIGTERM")
	}

	stdout, stderr, code := runCLI(t, work, []string{"LOG_FORMAT=text"}, "index", "notes")
	if code != exitOK {
		t.Fatalf("index: exit %d\n%s%s", code, stdout, stderr)
	}
	if n := strings.Count(stderr, "replacing the sample documents with yours"); n != 1 {
		t.Errorf("index stderr says %d times that the sample is replaced, want once:\n%s", n, stderr)
	}
	if !strings.Contains(stdout, "3 documents (3 added") {
		t.Errorf("summary: %s", stdout)
	}

	p = serve(t, work)
	ids := search(p, "tunnel")
	slices.Sort(ids)
	if want := []string{"notes/cellar.md", "notes/parking.md", "notes/vpn.md"}; !slices.Equal(ids, want) {
		t.Errorf("after indexing your notes: search tunnel = %v, want exactly %v", ids, want)
	}
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": sampleDoc}, nil); !isErr || !strings.Contains(text, "no document has id") {
		t.Errorf("fetch %s: %s, want a not-found error", sampleDoc, text)
	}
	if strings.Contains(p.log(), "sample index built") {
		t.Errorf("the second start built the sample again:\n%s", p.log())
	}

	stdout, stderr, code = runCLI(t, work, nil, "--help")
	for _, cmd := range []string{"serve", "index", "search", "fetch", "version", "help"} {
		if !strings.Contains(stdout+stderr, "connector "+cmd) && !strings.Contains(stdout+stderr, "connector ["+cmd+"]") {
			t.Errorf("--help does not list %s:\n%s%s", cmd, stdout, stderr)
		}
	}
	if code != exitOK {
		t.Errorf("--help: exit %d", code)
	}
	_, stderr, code = runCLI(t, work, nil, "index", "--nope")
	if code != exitUsage || !strings.Contains(stderr, "-nope") || !strings.Contains(stderr, "Usage: connector index") {
		t.Errorf("index --nope: exit %d, want %d and a message naming the flag and the usage:\n%s", code, exitUsage, stderr)
	}
}
