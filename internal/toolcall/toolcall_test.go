package toolcall_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/toolcall"
)

// TestFromStore: each store failure becomes a class for the log and a
// message whose advice fits the tool and the cause. Word advice fits only a
// search the store itself was slow to run: a fetch's id is not the
// caller's to shorten, and a slow upstream service is not the query's fault.
func TestFromStore(t *testing.T) {
	upstreamTimeout := &store.Unavailable{Class: "upstream_timeout", Reason: "the OpenAI API did not answer in time; try again shortly", Err: context.DeadlineExceeded}
	unavailable := &store.Unavailable{Class: "rate_limited", Reason: "rate limited upstream, try again shortly", Err: errors.New("429")}
	for _, tt := range []struct {
		what       string
		err        error
		class, msg string
	}{
		{"search", context.DeadlineExceeded, toolcall.ClassTimeout,
			"the search took too long and was stopped; try again, or use fewer or more specific words"},
		{"search", upstreamTimeout, "upstream_timeout", "the OpenAI API did not answer in time; try again shortly"},
		{"fetch", fmt.Errorf("id %q: %w", "d1", context.DeadlineExceeded), toolcall.ClassTimeout,
			"the document could not be read in time; try again shortly"},
		{"fetch", upstreamTimeout, "upstream_timeout", "the OpenAI API did not answer in time; try again shortly"},
		{"fetch", context.Canceled, toolcall.ClassCanceled, "the fetch was cancelled"},
		{"fetch", fmt.Errorf("id: %w", store.ErrNotFound), toolcall.ClassNotFound, "not found"},
		{"search", unavailable, "rate_limited", "rate limited upstream, try again shortly"},
		{"search", errors.New("disk on fire"), toolcall.ClassStore, "the document store could not complete the search; try again shortly"},
	} {
		got := toolcall.FromStore(tt.what, tt.err)
		if got.Class != tt.class || got.Message != tt.msg || !errors.Is(got, tt.err) {
			t.Errorf("FromStore(%q, %v) = {%s %q}, want {%s %q} wrapping the cause", tt.what, tt.err, got.Class, got.Message, tt.class, tt.msg)
		}
	}
}

// TestLogCaller: the tool call line names the caller by its principal hash.
func TestLogCaller(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	c := access.NewCaller("alice-sub", "alice@example.com", []string{"eng"}, nil)
	toolcall.Log(access.NewContext(t.Context(), c), logger, time.Now(), 1, nil, "tool", "search")
	toolcall.Log(t.Context(), logger, time.Now(), 0, nil, "tool", "fetch")
	out := buf.String()
	if !strings.Contains(out, "caller="+c.LogID()) || !strings.Contains(out, "caller=nobody") {
		t.Errorf("log lacks the caller hashes:\n%s", out)
	}
	if strings.Contains(out, "alice") {
		t.Errorf("log names the caller's subject or email:\n%s", out)
	}
}
