package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

const connectorKey = "3f9a1c0e7b2d4a6f8e1c3b5d7a9f0e2c4b6d8a1f3e5c7b9d"

const completed = `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"o4-mini-deep-research","output":[
	{"id":"mcpl_1","type":"mcp_list_tools","server_label":"docs","tools":[{"name":"search","input_schema":{}},{"name":"fetch","input_schema":{}}]},
	{"id":"mcp_1","type":"mcp_call","server_label":"docs","name":"search","arguments":"{\"query\":\"on-call\"}","output":"{\"results\":[]}","error":null},
	{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"The pager rotates weekly.","annotations":[]}]}]}`

// failedEchoingKey is a failed response whose messages repeat the connector
// key, as a careless upstream might: run must not print it.
const failedEchoingKey = `{"id":"resp_1","object":"response","created_at":1,"status":"failed","model":"o4-mini-deep-research",
	"error":{"code":"server_error","message":"MCP server rejected Bearer ` + connectorKey + `"},"output":[
	{"id":"mcp_1","type":"mcp_call","server_label":"docs","name":"search","arguments":"{\"query\":\"x\"}","output":"","error":{"message":"401 for key ` + connectorKey + `"}}]}`

// responsesAPI stands in for the Responses API: it records the body of the
// create request and, on the second poll, answers with final.
func responsesAPI(t *testing.T, created *map[string]any, final string) *httptest.Server {
	t.Helper()
	polls := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/responses":
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, created); err != nil {
				t.Errorf("create body %s: %v", body, err)
			}
			io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"queued","model":"o4-mini-deep-research","output":[],"background":true}`)
		case r.Method == http.MethodGet && r.URL.Path == "/responses/resp_1":
			polls++
			if polls == 1 {
				io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","model":"o4-mini-deep-research","output":[]}`)
				return
			}
			io.WriteString(w, final)
		default:
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(api.Close)
	return api
}

// TestRun drives the example against a stand-in for the Responses API that
// answers with the documented response object shapes.
func TestRun(t *testing.T) {
	tests := []struct {
		name, key, keyHeader string
		wantAuthorization    any // the tool's "authorization"; nil when absent
		wantHeaders          any // the tool's "headers"; nil when absent
	}{
		{name: "no connector key"},
		{name: "key in authorization", key: connectorKey, wantAuthorization: connectorKey},
		{name: "key in X-API-Key", key: connectorKey, keyHeader: "X-API-Key",
			wantHeaders: map[string]any{"X-API-Key": connectorKey}},
		{name: "key in an Authorization header", key: connectorKey, keyHeader: "Authorization",
			wantHeaders: map[string]any{"Authorization": "Bearer " + connectorKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var created map[string]any
			api := responsesAPI(t, &created, completed)
			client := openai.NewClient(option.WithAPIKey("sk-test"), option.WithBaseURL(api.URL), option.WithMaxRetries(0))
			var out bytes.Buffer
			req := request{Model: "o4-mini-deep-research", Server: "https://docs.example.com/mcp", Question: "who is on call?",
				ConnectorKey: tt.key, KeyHeader: tt.keyHeader, Poll: time.Millisecond}
			if err := run(t.Context(), client, &out, req); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"listed 2 tools", `search {"query":"on-call"} → ok`, "The pager rotates weekly."} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if strings.Contains(out.String(), connectorKey) {
				t.Errorf("output shows the connector key:\n%s", out.String())
			}
			tool := created["tools"].([]any)[0].(map[string]any)
			if tool["type"] != "mcp" || tool["server_url"] != "https://docs.example.com/mcp" || tool["require_approval"] != "never" ||
				created["background"] != true || created["model"] != "o4-mini-deep-research" {
				t.Errorf("request: %v", created)
			}
			if allowed, _ := json.Marshal(tool["allowed_tools"]); string(allowed) != `["search","fetch"]` {
				t.Errorf("allowed_tools = %s", allowed)
			}
			if got, _ := json.Marshal(tool["authorization"]); string(got) != mustJSON(t, tt.wantAuthorization) {
				t.Errorf("authorization = %s, want %s", got, mustJSON(t, tt.wantAuthorization))
			}
			if got, _ := json.Marshal(tool["headers"]); string(got) != mustJSON(t, tt.wantHeaders) {
				t.Errorf("headers = %s, want %s", got, mustJSON(t, tt.wantHeaders))
			}
		})
	}
}

// TestRunMasksKey checks that a key echoed back by the API shows up neither
// in the printed tool calls nor in the returned error.
func TestRunMasksKey(t *testing.T) {
	var created map[string]any
	api := responsesAPI(t, &created, failedEchoingKey)
	client := openai.NewClient(option.WithAPIKey("sk-test"), option.WithBaseURL(api.URL), option.WithMaxRetries(0))
	var out bytes.Buffer
	req := request{Model: "o4-mini-deep-research", Server: "https://docs.example.com/mcp", Question: "q",
		ConnectorKey: connectorKey, Poll: time.Millisecond}
	err := run(t.Context(), client, &out, req)
	if err == nil {
		t.Fatal("run succeeded on a failed response")
	}
	if strings.Contains(out.String(), connectorKey) || strings.Contains(err.Error(), connectorKey) {
		t.Errorf("connector key printed:\noutput: %s\nerror: %v", out.String(), err)
	}
	if !strings.Contains(out.String(), "401 for key [connector key]") || !strings.Contains(err.Error(), "rejected Bearer [connector key]") {
		t.Errorf("want the messages with the key masked:\noutput: %s\nerror: %v", out.String(), err)
	}
	if tool := created["tools"].([]any)[0].(map[string]any); tool["authorization"] != connectorKey {
		t.Errorf("authorization = %v, want the key", tool["authorization"])
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
