package bench

import (
	"context"
	"testing"
)

// BenchmarkMCPOverhead is one search tool call over Streamable HTTP on
// loopback against a store that answers at once: the cost of the MCP and
// HTTP layers alone.
//
//	go test -run '^$' -bench MCPOverhead -cpuprofile /tmp/cpu.out ./internal/bench/
func BenchmarkMCPOverhead(b *testing.B) {
	ctx := context.Background()
	s, err := startServer(ctx, constantStore{}, 0, ClientSDK)
	if err != nil {
		b.Fatal(err)
	}
	defer s.stop()
	for b.Loop() {
		if _, err := s.search(ctx, "constant query words"); err != nil {
			b.Fatal(err)
		}
	}
}
