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

// TestRun drives the example against a stand-in for the Responses API that
// answers with the documented response object shapes.
func TestRun(t *testing.T) {
	var created map[string]any
	polls := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/responses":
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &created)
			io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"queued","model":"o4-mini-deep-research","output":[],"background":true}`)
		case r.Method == http.MethodGet && r.URL.Path == "/responses/resp_1":
			polls++
			if polls == 1 {
				io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","model":"o4-mini-deep-research","output":[]}`)
				return
			}
			io.WriteString(w, `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"o4-mini-deep-research","output":[
				{"id":"mcpl_1","type":"mcp_list_tools","server_label":"docs","tools":[{"name":"search","input_schema":{}},{"name":"fetch","input_schema":{}}]},
				{"id":"mcp_1","type":"mcp_call","server_label":"docs","name":"search","arguments":"{\"query\":\"on-call\"}","output":"{\"results\":[]}","error":null},
				{"id":"msg_1","type":"message","role":"assistant","status":"completed","content":[{"type":"output_text","text":"The pager rotates weekly.","annotations":[]}]}]}`)
		default:
			http.Error(w, `{"error":{"message":"not found","type":"invalid_request_error","param":null,"code":null}}`, http.StatusNotFound)
		}
	}))
	defer api.Close()

	client := openai.NewClient(option.WithAPIKey("sk-test"), option.WithBaseURL(api.URL), option.WithMaxRetries(0))
	var out bytes.Buffer
	if err := run(t.Context(), client, &out, "o4-mini-deep-research", "https://docs.example.com/mcp", "who is on call?", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"listed 2 tools", `search {"query":"on-call"} → ok`, "The pager rotates weekly."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	tool := created["tools"].([]any)[0].(map[string]any)
	if tool["type"] != "mcp" || tool["server_url"] != "https://docs.example.com/mcp" || tool["require_approval"] != "never" ||
		created["background"] != true || created["model"] != "o4-mini-deep-research" {
		t.Errorf("request: %v", created)
	}
	if allowed, _ := json.Marshal(tool["allowed_tools"]); string(allowed) != `["search","fetch"]` {
		t.Errorf("allowed_tools = %s", allowed)
	}
}
