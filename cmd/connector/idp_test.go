package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestRealIdP checks per-document access end to end with a real OpenID
// Connect provider: panva's oidc-provider from npm (test/clients/idp.mjs)
// issues JWT access tokens with groups claims, and the connector shows each
// caller only the documents its groups may read. The groups come from the
// token's groups claim (OAUTH_GROUPS_CLAIM's default), a list or a string.
func TestRealIdP(t *testing.T) {
	issuer := startIdP(t)

	// eng/ and hr/ are restricted by their .access files; handbook.md has no
	// list, so DEFAULT_ACCESS (authenticated) lets every verified caller read it.
	// Every document says "kumquat", so one query finds all a caller may see;
	// each restricted one also has a word found nowhere else.
	work := t.TempDir()
	writeFiles(t, filepath.Join(work, "docs"), map[string]string{
		"handbook.md":      "# Company handbook\n\nThe kumquat tree in the lobby is watered on Mondays.",
		"eng/.access":      "group:eng\n",
		"eng/roadmap.md":   "# Engine roadmap\n\nThe kumquat release ships the falconwing compiler.",
		"hr/.access":       "group:hr\n",
		"hr/salaries.md":   "# Salary bands\n\nThe kumquat bonus is paid from the otterpool budget.",
		"hr/nested/faq.md": "# Leave questions\n\nKumquat days are granted in the otterpool too.",
	})
	env := []string{"INDEX_DIR=" + filepath.Join(work, "index")}
	if stdout, stderr, code := runCLI(t, work, env, "index", "docs"); code != exitOK {
		t.Fatalf("index: exit %d\n%s%s", code, stdout, stderr)
	}

	// The public URL only names the resource: tokens are requested for its
	// /mcp endpoint, one of the audiences the server accepts by default, and
	// sent to wherever the server listens.
	const public = "https://docs.example.com"
	resource := public + "/mcp"
	p := serve(t, work, append(env, "AUTH_MODE=oauth", "PUBLIC_BASE_URL="+public, "OAUTH_ISSUER="+issuer)...)

	const (
		eng      = "docs/eng/roadmap.md"
		hr       = "docs/hr/salaries.md"
		hrFAQ    = "docs/hr/nested/faq.md"
		handbook = "docs/handbook.md"
	)
	// What a caller must never see of each restricted document: its id,
	// title and a word of its text.
	secrets := map[string][]string{
		eng:   {eng, "Engine roadmap", "falconwing"},
		hr:    {hr, "Salary bands", "otterpool"},
		hrFAQ: {hrFAQ, "Leave questions", "otterpool"},
	}
	for _, tc := range []struct {
		client string
		want   []string // ids that the search for kumquat finds, in any order
	}{
		{"eng-app", []string{eng, handbook}},
		{"hr-app", []string{hr, hrFAQ, handbook}}, // groups sent as the string "hr payroll"
		{"plain-app", []string{handbook}},         // no groups claim
	} {
		t.Run(tc.client, func(t *testing.T) {
			token := clientToken(t, issuer, tc.client, resource)
			cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp", HTTPClient: bearerClient(token)})
			var forbidden []string
			for id, words := range secrets {
				if !slices.Contains(tc.want, id) {
					forbidden = append(forbidden, words...)
				}
			}
			// The raw text of a tool result must hold none of a forbidden
			// document's id, title or words, but the id the caller sent.
			leaks := func(what, text, sent string) {
				t.Helper()
				for _, s := range forbidden {
					if s != sent && strings.Contains(text, s) {
						t.Errorf("%s shows %q to %s:\n%s", what, s, tc.client, text)
					}
				}
			}

			var found searchOut
			isErr, text := callJSON(t, cs, "search", map[string]any{"query": "kumquat"}, &found)
			if isErr {
				t.Fatalf("search: %s", text)
			}
			var got []string
			for _, r := range found.Results {
				got = append(got, r.ID)
			}
			if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tc.want))) {
				t.Errorf("search kumquat: %q, want %q", got, tc.want)
			}
			leaks("search kumquat", text, "")
			// Searching for a forbidden document's own words finds nothing.
			for _, q := range []string{"falconwing", "otterpool", "roadmap salary bands leave"} {
				_, text := callJSON(t, cs, "search", map[string]any{"query": q}, nil)
				leaks("search "+q, text, "")
			}

			// A forbidden id answers exactly as an id that does not exist.
			for id := range secrets {
				if slices.Contains(tc.want, id) {
					var doc fetchOut
					if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": id}, &doc); isErr || doc.ID != id {
						t.Errorf("fetch %s: %s", id, text)
					}
					continue
				}
				missing := strings.TrimSuffix(id, ".md") + "x.md" // as long, so shortened alike
				isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": id}, nil)
				_, want := callJSON(t, cs, "fetch", map[string]any{"id": missing}, nil)
				if !isErr || !strings.Contains(text, "no document has id") || strings.ReplaceAll(text, id, missing) != want {
					t.Errorf("fetch %s: %s\nwant what a missing id gets: %s", id, text, want)
				}
				leaks("fetch "+id, text, id)
			}
			var doc fetchOut
			if isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": handbook}, &doc); isErr || !strings.Contains(doc.Text, "lobby") {
				t.Errorf("fetch %s: %s", handbook, text)
			}
		})
	}

	// A token the same IdP issued for another resource is refused.
	token := clientToken(t, issuer, "eng-app", "https://other.example.com/mcp")
	res, err := bearerClient(token).Post(p.base+"/mcp", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for another resource: %s, want 401", res.Status)
	}
}

// startIdP runs test/clients/idp.mjs with Node 22 on a free port and returns
// its issuer URL once it prints it (skipping the test when the npm tools are
// not installed; nodeTools says when that fails instead).
func startIdP(t *testing.T) string {
	t.Helper()
	path, _ := nodeTools(t)
	script, err := filepath.Abs(filepath.Join(clientsDir, "idp.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// env finds node on the PATH nodeTools chose, then execs it: the
	// process the test stops is node itself.
	cmd := exec.Command("env", "PATH="+path, "node", script)
	var stderr lockedBuffer
	ready := make(chan string, 1)
	cmd.Stdout, cmd.Stderr = &issuerWriter{ready: ready}, &stderr
	done := startProcess(t, cmd, 5*time.Second)
	select {
	case issuer := <-ready:
		return issuer
	case err := <-done:
		t.Fatalf("idp.mjs exited before listening: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("idp.mjs printed no issuer within 30s\n%s", stderr.String())
	}
	return ""
}

// issuerWriter is the IdP's stdout: it sends the issuer of the first JSON
// line that names one, and discards the rest. os/exec calls Write from one
// goroutine, and waits for it before Wait returns.
type issuerWriter struct {
	ready chan<- string
	buf   []byte
	sent  bool
}

func (w *issuerWriter) Write(p []byte) (int, error) {
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		var line struct{ Issuer string }
		if json.Unmarshal(w.buf[:i], &line) == nil && line.Issuer != "" {
			w.ready <- line.Issuer
			w.sent, w.buf = true, nil
			return len(p), nil
		}
		w.buf = w.buf[i+1:]
	}
}

// clientToken gets an access token for resource with the client_credentials
// grant, as the client's secret at the IdP's discovered token endpoint.
func clientToken(t *testing.T, issuer, client, resource string) string {
	t.Helper()
	var meta struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	getJSON(t, mustRequest(t, "GET", issuer+"/.well-known/openid-configuration", nil), &meta)
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}, "scope": {"docs.read"}}
	req := mustRequest(t, "POST", meta.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client, client+"-secret") // the secrets idp.mjs registers
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	getJSON(t, req, &tok)
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "bearer") {
		t.Fatalf("token for %s: %+v", client, tok)
	}
	return tok.AccessToken
}

func mustRequest(t *testing.T, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func getJSON(t *testing.T, req *http.Request, out any) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %s", req.Method, req.URL, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
}

// bearerClient sends every request with the token in Authorization.
func bearerClient(token string) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+token)
		return http.DefaultTransport.RoundTrip(r)
	})}
}
