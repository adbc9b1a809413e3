package requestid_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/requestid"
)

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{
		"":                                     false,
		"0f3c9a1be2d84c7f9e1b2a3c4d5e6f70":     true, // nginx $request_id
		"550e8400-e29b-41d4-a716-446655440000": true,
		"a.b_c-D":                              true,
		strings.Repeat("a", 128):               true,
		strings.Repeat("a", 129):               false,
		"has space":                            false,
		"new\nline":                            false,
		"quote\"":                              false,
		"ünïcode":                              false,
	} {
		if got := requestid.Valid(id); got != want {
			t.Errorf("Valid(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestGenerator(t *testing.T) {
	g := requestid.NewGenerator()
	seen := map[string]bool{}
	for range 1000 {
		id := g.Next()
		if !requestid.Valid(id) || seen[id] {
			t.Fatalf("id %q invalid or repeated", id)
		}
		seen[id] = true
	}
	if a, b := requestid.NewGenerator().Next(), requestid.NewGenerator().Next(); a == b {
		t.Errorf("two generators made the same id %q", a)
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(requestid.Handler(slog.NewTextHandler(&buf, nil))).With("component", "http")
	ctx := requestid.With(context.Background(), "req-1")
	logger.InfoContext(ctx, "with id")
	logger.Info("without id")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "request_id=req-1") || !strings.Contains(lines[0], "component=http") ||
		strings.Contains(lines[1], "request_id") {
		t.Errorf("log:\n%s", buf.String())
	}
	if requestid.Handler(requestid.Handler(slog.DiscardHandler)) == nil {
		t.Error("nil handler")
	}
}

func BenchmarkNext(b *testing.B) {
	g := requestid.NewGenerator()
	for b.Loop() {
		_ = g.Next()
	}
}
