package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/ingest"
)

// lockedBuffer is a bytes.Buffer safe for the reporter's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProgressLinesWhenNotATerminal: a long run that is not on a terminal
// (CI, a pipe, a log file) reports progress as log lines.
func TestProgressLinesWhenNotATerminal(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	p := &ingest.Progress{}
	rep := newReporter(logger, indexOptions{progress: &bytes.Buffer{}}, p)
	rep.logEvery = 20 * time.Millisecond
	rep.start(context.Background(), 10, 1000)
	p.Files.Add(4)
	p.Bytes.Add(400)
	time.Sleep(100 * time.Millisecond)
	rep.problem(slog.LevelWarn, "skipped", "problem", "x.bin: binary file")
	rep.stop()
	out := logs.String()
	for _, want := range []string{`"msg":"indexing"`, `"files_read":4`, `"files_total":10`, `"bytes_read":400`, `"bytes_total":1000`, `"msg":"skipped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}
