package auth_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/toolcall"
)

// principals answers with the principals of the caller in the context,
// comma-separated, and logs a tool call line as the tools do.
func principals(logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		toolcall.Log(r.Context(), logger, time.Now(), 1, nil, "tool", "search")
		c := access.FromContext(r.Context())
		var ps []string
		for _, p := range c.Principals() {
			ps = append(ps, string(p))
		}
		w.Write([]byte(strings.Join(ps, ",")))
	})
}

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOAuthCallerClaims: the caller's principals from the claim shapes of
// the major identity providers.
func TestOAuthCallerClaims(t *testing.T) {
	tests := []struct {
		name           string
		groups, roles  string // OAUTH_GROUPS_CLAIM, OAUTH_ROLES_CLAIM ("" for the defaults)
		claims         map[string]any
		want           string
		wantOverageLog bool
	}{
		{name: "entra ID: group GUIDs, app roles; upn and preferred_username are not emails",
			claims: map[string]any{"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
				"groups": []string{"5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13", "0c9d7e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5"},
				"roles":  []string{"Docs.Read", "Docs.Admin"}, "upn": "alice@contoso.com", "preferred_username": "alice@contoso.com"},
			want: "authenticated,group:0c9d7e6f-1a2b-4c3d-8e9f-a0b1c2d3e4f5,group:5b2c1a7e-0f3d-4e8a-9c11-2f4b6d8e0a13,role:Docs.Admin,role:Docs.Read,user:AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"},
		{name: "entra ID: groups overage fails closed",
			claims: map[string]any{"sub": "entra-sub", "roles": []string{"Docs.Read"},
				"_claim_names":   map[string]any{"groups": "src1"},
				"_claim_sources": map[string]any{"src1": map[string]any{"endpoint": "https://graph.windows.net/tenant/users/x/getMemberObjects"}}},
			want: "authenticated,role:Docs.Read,user:entra-sub", wantOverageLog: true},
		{name: "okta: groups array, email verified",
			claims: map[string]any{"sub": "00u1abcd", "groups": []string{"Everyone", "Engineering"}, "email": "Bob@Example.com", "email_verified": true},
			want:   "authenticated,group:Engineering,group:Everyone,user:00u1abcd,user:bob@example.com"},
		{name: "keycloak: group paths, realm_access.roles nested", roles: "realm_access.roles",
			claims: map[string]any{"sub": "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "groups": []string{"/eng", "/eng/backend"},
				"realm_access": map[string]any{"roles": []string{"offline_access", "reader"}}},
			want: "authenticated,group:/eng,group:/eng/backend,role:offline_access,role:reader,user:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"},
		{name: "keycloak: a literal dotted key wins over the path", roles: "realm_access.roles",
			claims: map[string]any{"sub": "kc", "realm_access.roles": "literal",
				"realm_access": map[string]any{"roles": []string{"nested"}}},
			want: "authenticated,role:literal,user:kc"},
		{name: "auth0: namespaced claim URLs", groups: "https://example.com/groups", roles: "https://example.com/roles",
			claims: map[string]any{"sub": "auth0|64f1", "https://example.com/groups": []string{"eng"}, "https://example.com/roles": []string{"admin"},
				"groups": []string{"not-this-one"}},
			want: "authenticated,group:eng,role:admin,user:auth0|64f1"},
		{name: "google: no groups, verified email",
			claims: map[string]any{"sub": "110169484474386276334", "email": "carol@gmail.com", "email_verified": true},
			want:   "authenticated,user:110169484474386276334,user:carol@gmail.com"},
		{name: "email not verified is not used",
			claims: map[string]any{"sub": "s1", "email": "mallory@example.com", "email_verified": false},
			want:   "authenticated,user:s1"},
		{name: "email without email_verified is not used",
			claims: map[string]any{"sub": "s1", "email": "mallory@example.com"},
			want:   "authenticated,user:s1"},
		{name: "email_verified as the string true (Cognito)",
			claims: map[string]any{"sub": "s1", "email": "dave@example.com", "email_verified": "true"},
			want:   "authenticated,user:dave@example.com,user:s1"},
		{name: "groups as a space- and comma-separated string",
			claims: map[string]any{"sub": "s1", "groups": "eng ops,hr, sales"},
			want:   "authenticated,group:eng,group:hr,group:ops,group:sales,user:s1"},
		{name: "no groups, no roles",
			claims: map[string]any{"sub": "s1"},
			want:   "authenticated,user:s1"},
		{name: "client credentials: no sub, app roles",
			claims: map[string]any{"sub": nil, "roles": []string{"Docs.Read"}},
			want:   "authenticated,role:Docs.Read,user:client:chatgpt-connector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			s := newOAuth(t, func(o *auth.Options) {
				o.GroupsClaim, o.RolesClaim = tt.groups, tt.roles
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			h := s.a.Wrap(principals(slog.New(slog.NewTextHandler(&logs, nil))))
			c := s.p.Claims(base+"/mcp", "docs.read")
			for k, v := range tt.claims {
				if v == nil {
					delete(c, k)
					continue
				}
				c[k] = v
			}
			tok := s.p.Mint(c)
			for range 3 {
				res := call(t, h, "/mcp", map[string]string{"Authorization": "Bearer " + tok})
				if res.status != 200 || res.body != tt.want {
					t.Fatalf("got %d %q\nwant %q", res.status, res.body, tt.want)
				}
			}
			out := logs.String()
			if n := strings.Count(out, "too many groups"); n != map[bool]int{true: 1}[tt.wantOverageLog] {
				t.Errorf("%d overage warnings in 3 calls (want one when the token has an overage):\n%s", n, out)
			}
			if tt.wantOverageLog && !strings.Contains(out, "ApplicationGroup") {
				t.Errorf("the overage warning does not say what to do:\n%s", out)
			}
			// The tool call line names the caller by its hash, never by token or subject.
			var principals []access.Principal
			for _, p := range strings.Split(tt.want, ",") {
				principals = append(principals, access.Principal(p))
			}
			logID := access.NewCaller("", "", nil, nil).With(principals...).LogID()
			if !strings.Contains(out, "caller="+logID) {
				t.Errorf("log lacks caller=%s:\n%s", logID, out)
			}
			sub, _ := tt.claims["sub"].(string)
			if strings.Contains(out, tok[:40]) || strings.Contains(out, tok[len(tok)-20:]) || (len(sub) >= 8 && strings.Contains(out, sub)) {
				t.Errorf("log names the token or the subject:\n%s", out)
			}
		})
	}
}

// TestAPIKeyCaller: an API key's caller is authenticated, user:apikey:ID and
// the principals configured for it, from API_KEYS entries or a keys file.
func TestAPIKeyCaller(t *testing.T) {
	keyA, keyB, keyC := strings.Repeat("a", 32)+"==", strings.Repeat("b", 40), strings.Repeat("c", 32)+"#x"
	file := "# keys of the docs connector\n\n" +
		"  " + keyB + "  group:hr role:Reader # HR's assistant\n" +
		keyC + "\n"
	fileEntries, err := auth.ParseAPIKeysFile("keys.txt", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: append([]string{keyA + " group:eng GROUP:ops"}, fileEntries...), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Wrap(principals(logger))
	for key, want := range map[string]string{
		keyA: "authenticated,group:eng,group:ops,user:" + auth.APIKeyID(keyA),
		keyB: "authenticated,group:hr,role:Reader,user:" + auth.APIKeyID(keyB),
		keyC: "authenticated,user:" + auth.APIKeyID(keyC),
	} {
		res := call(t, h, "/mcp", map[string]string{"X-API-Key": key})
		if res.status != 200 || res.body != want {
			t.Errorf("got %d %q, want %q", res.status, res.body, want)
		}
	}
	out := logs.String()
	for _, k := range []string{keyA, keyB, keyC} {
		if strings.Contains(out, k[:32]) {
			t.Errorf("log holds a key:\n%s", out)
		}
	}
	if strings.Count(out, "caller=") != 3 {
		t.Errorf("want 3 tool call lines with a caller:\n%s", out)
	}
}

func TestAPIKeySyntaxErrors(t *testing.T) {
	key := "s3cret-" + strings.Repeat("k", 30)
	for _, tt := range []struct {
		name, entry string
		want        []string
	}{
		{"short key", "short-s3cret group:eng", []string{"12 characters", "at least 32"}},
		{"non-ASCII key", key + "é", []string{"printable ASCII"}},
		{"a key with a space", "s3cret-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk ssssssss3cret", []string{"key 2 of 2: principal 1 is not group:NAME", "keys cannot contain spaces"}},
		{"unknown kind", key + " team:eng", []string{"principal 1 is not group:NAME"}},
		{"none", key + " group:eng none", []string{"principal 2 is none, which names nobody"}},
		{"empty name", key + " group:", []string{"principal 1 is wrong", "empty name"}},
		{"# in a name", key + " group:a#b", []string{"principal 1 is wrong", `"#"`}},
	} {
		err := auth.CheckAPIKeys([]string{key, tt.entry})
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range append(tt.want, "key 2 of 2") {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", tt.name, w, err)
			}
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error quotes a key: %v", tt.name, err)
		}
	}
	if err := auth.CheckAPIKeys([]string{key + " group:eng", key + " group:hr"}); err == nil || !strings.Contains(err.Error(), "key 2 of 2 is key 1 again") {
		t.Errorf("a repeated key: %v", err)
	}

	file := "# comment\n" + key + " group:eng\n\n" + "short-s3cret\n" + key + " role:x\n" + key + "x team:x\n"
	_, err := auth.ParseAPIKeysFile("/etc/connector/keys", strings.NewReader(file))
	if err == nil {
		t.Fatal("bad file: no error")
	}
	for _, w := range []string{"/etc/connector/keys:4: the key is 12 characters", "/etc/connector/keys:5: the key of line 2 again", "/etc/connector/keys:6: principal 1 is not"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("file error lacks %q: %v", w, err)
		}
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("file error quotes a key: %v", err)
	}
	if _, err := auth.ParseAPIKeysFile("empty", strings.NewReader("# nothing\n")); err == nil || !strings.Contains(err.Error(), "holds no key") {
		t.Errorf("empty file: %v", err)
	}
}

// FuzzParseAPIKey: no entry makes the parser panic, accept a key that
// CheckAPIKeys refuses, return a principal that does not parse, or quote
// the key in an error.
func FuzzParseAPIKey(f *testing.F) {
	key := strings.Repeat("k", 32)
	for _, seed := range []string{key, key + " group:eng role:admin", key + "= user:a@b.c", key + " none", key + " group:",
		"short", "", "   ", key + " authenticated", key + "\tgroup:x\ngroup:y", key + " Group:Eng", key + " user:é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		k, ps, err := auth.ParseAPIKey(entry)
		if err != nil {
			// The key may show only where the entry repeats it in a principal.
			if fs := strings.Fields(entry); len(fs) > 0 && len(fs[0]) >= 8 && strings.Contains(err.Error(), fs[0]) &&
				!strings.Contains(strings.Join(fs[1:], " "), fs[0]) {
				t.Fatalf("error quotes the key: %v", err)
			}
			return
		}
		if err := auth.CheckAPIKeys([]string{k}); err != nil {
			t.Fatalf("ParseAPIKey accepted a key CheckAPIKeys refuses: %v", err)
		}
		for _, p := range ps {
			if q, err := access.ParsePrincipal(string(p)); err != nil || q != p || p == access.None {
				t.Fatalf("principal %q: %v", p, err)
			}
		}
		if !slices.Equal(strings.Fields(entry)[:1], []string{k}) {
			t.Fatalf("key is not the first word")
		}
	})
}
