package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Clients the benchmark can load the server with.
const (
	// ClientHTTP is a lean Streamable HTTP client: one JSON-RPC POST per
	// tool call, the answer read from the SSE stream or JSON body, the way
	// remote clients such as ChatGPT's reach the server. It spends little
	// of the shared CPUs, so the figures are the server's.
	ClientHTTP = "http"
	// ClientSDK is go-sdk's own client, which costs about as much CPU per
	// call as the server does; on a small machine it slows the server it
	// shares the CPUs with.
	ClientSDK = "sdk"
)

// caller calls a tool and returns the text of its result.
type caller interface {
	callTool(ctx context.Context, name string, args map[string]string) (text string, isError bool, err error)
	close()
}

// sdkCaller calls tools through a go-sdk client session.
type sdkCaller struct{ session *mcp.ClientSession }

func newSDKCaller(ctx context.Context, endpoint string, hc *http.Client) (*sdkCaller, error) {
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "connector-bench", Version: "v1"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc}, nil)
	if err != nil {
		return nil, err
	}
	return &sdkCaller{session: cs}, nil
}

func (c *sdkCaller) callTool(ctx context.Context, name string, args map[string]string) (string, bool, error) {
	res, err := c.session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	for _, content := range res.Content {
		if t, ok := content.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String(), res.IsError, nil
}

func (c *sdkCaller) close() { c.session.Close() }

// httpCaller speaks Streamable HTTP itself: it initializes once, as every
// MCP client does, then posts each call on its own (the server is
// stateless).
type httpCaller struct {
	endpoint string
	hc       *http.Client
	version  string // negotiated protocol version
	session  string // Mcp-Session-Id, if the server gave one
	nextID   atomic.Int64
}

// requestedVersion is the protocol version the client asks for: one that
// OpenAI's clients send.
const requestedVersion = "2025-06-18"

func newHTTPCaller(ctx context.Context, endpoint string, hc *http.Client) (*httpCaller, error) {
	c := &httpCaller{endpoint: endpoint, hc: hc, version: requestedVersion}
	var init struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	err := c.call(ctx, "initialize", map[string]any{
		"protocolVersion": requestedVersion,
		"capabilities":    map[string]any{},
		"clientInfo":      map[string]string{"name": "connector-bench", "version": "v1"},
	}, &init)
	if err != nil {
		return nil, fmt.Errorf("initialize: %w", err)
	}
	c.version = init.ProtocolVersion
	if err := c.post(ctx, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), nil); err != nil {
		return nil, fmt.Errorf("initialized notification: %w", err)
	}
	return c, nil
}

func (c *httpCaller) callTool(ctx context.Context, name string, args map[string]string) (string, bool, error) {
	var res struct {
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
		IsError bool `json:"isError"`
	}
	if err := c.call(ctx, "tools/call", map[string]any{"name": name, "arguments": args}, &res); err != nil {
		return "", false, err
	}
	var b strings.Builder
	for _, content := range res.Content {
		if content.Type == "text" {
			b.WriteString(content.Text)
		}
	}
	return b.String(), res.IsError, nil
}

func (c *httpCaller) close() {}

// call makes one JSON-RPC request and decodes its result into result, a
// pointer. The message and its result are decoded in one pass: a second
// pass over a result of kilobytes would be the client's largest cost, and
// the client shares the CPUs with the server it measures.
func (c *httpCaller) call(ctx context.Context, method string, params, result any) error {
	id := c.nextID.Add(1)
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		return err
	}
	type response struct {
		ID     int64  `json:"id"`
		Method string `json:"method"` // set on a request from the server, never on a response
		Result any    `json:"result"` // result itself: Unmarshal decodes through the pointer
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	var resp response
	found := false
	err = c.post(ctx, body, func(msg []byte) (bool, error) {
		resp = response{Result: result}
		if err := json.Unmarshal(msg, &resp); err != nil {
			return false, fmt.Errorf("decode response: %w", err)
		}
		found = resp.ID == id && resp.Method == ""
		return found, nil
	})
	switch {
	case err != nil:
		return err
	case !found:
		return fmt.Errorf("%s: no response with id %d", method, id)
	case resp.Error != nil:
		return fmt.Errorf("%s: JSON-RPC error %d: %s", method, resp.Error.Code, resp.Error.Message)
	}
	return nil
}

// maxDrain bounds what post reads of an answer after the response it
// waited for; a stream that goes on longer is closed instead.
const maxDrain = 64 << 10

// post sends one JSON-RPC message and hands each message of the answer
// (a JSON body or the data of SSE events) to handle until it returns true.
func (c *httpCaller) post(ctx context.Context, body []byte, handle func([]byte) (bool, error)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", c.version)
	if c.session != "" {
		req.Header.Set("Mcp-Session-Id", c.session)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if id := resp.Header.Get("Mcp-Session-Id"); id != "" {
		c.session = id
	}
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	if handle == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/event-stream" {
		msg, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		_, err = handle(msg)
		return err
	}
	// SSE: events are "data:" lines ended by a blank line.
	r := bufio.NewReaderSize(resp.Body, 16<<10)
	var data []byte
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) { // a long line: copy what was read before reading on
			head := append([]byte(nil), line...)
			rest, err2 := r.ReadBytes('\n')
			line, err = append(head, rest...), err2
		}
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(line) == 0 && len(data) > 0:
			done, herr := handle(data)
			if herr != nil {
				return herr
			}
			if done {
				// The server ends the stream after the response: read it
				// to the end, so that the connection goes back to the pool
				// instead of being closed (and the next call dialling anew).
				_, err := io.Copy(io.Discard, io.LimitReader(r, maxDrain))
				return err
			}
			data = data[:0]
		case bytes.HasPrefix(line, []byte("data:")):
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("data:")), []byte(" "))...)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(data) > 0 {
					_, herr := handle(data)
					return herr
				}
				return nil
			}
			return err
		}
	}
}
