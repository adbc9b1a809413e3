//go:build onnx

package embed

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// testLibrary returns the ONNX Runtime library, skipping the test when it is
// not installed, or failing with CONNECTOR_REQUIRE_CLIENTS set (make test).
func testLibrary(t testing.TB) string {
	t.Helper()
	lib := DefaultLibraryPath()
	if lib != "" && fileExists(lib) {
		return lib
	}
	msg := "ONNX Runtime library not found: run scripts/install-onnxruntime.sh or set ONNXRUNTIME_LIB"
	if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// toyDir writes the stand-in model and a small vocabulary into a temp dir.
func toyDir(t testing.TB, model []byte) string {
	t.Helper()
	dir := t.TempDir()
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "how", "do", "i", "get", "my", "money", "back",
		"refund", "policy", ":", "the", "server", "listens", "on", "port", "8000", "un", "##believ", "##able",
		"cafe", ".", ",", "word", "a", "b", "c"}
	if err := os.WriteFile(filepath.Join(dir, "vocab.txt"), []byte(strings.Join(vocab, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func newToy(t testing.TB, opts LocalOptions) *Local {
	t.Helper()
	opts.LibraryPath = testLibrary(t)
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.ModelDir == "" {
		opts.ModelDir = toyDir(t, toyModel())
	}
	l, err := NewLocal(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func closeVecs(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if d := dot(a, b); d < 1-1e-5 {
		t.Errorf("%s: cosine %.7f, want 1", what, d)
	}
}

func TestWordPiece(t *testing.T) {
	dir := toyDir(t, nil)
	wp, err := loadVocab(filepath.Join(dir, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// "Unbelievable" splits into pieces, "Café" loses its accent, "zzz" is unknown.
	got := wp.encode("How do I get my money back? Unbelievable, Café\tzzz", 256)
	want := []int64{2, 4, 5, 6, 7, 8, 9, 10, 1, 20, 21, 22, 25, 23, 1, 3}
	if !slices.Equal(got, want) {
		t.Errorf("encode = %v, want %v", got, want)
	}
	if got := wp.encode(strings.Repeat("word ", 1000), 8); len(got) != 8 || got[0] != 2 || got[7] != 3 {
		t.Errorf("truncated encode = %v, want [CLS] 6 words [SEP]", got)
	}
}

func TestLocalToyModel(t *testing.T) {
	l := newToy(t, LocalOptions{BatchSize: 3})
	ctx := context.Background()
	if m := l.Model(); m != (Model{Name: "all-MiniLM-L6-v2", Dims: 384}) {
		t.Errorf("Model() = %+v", m)
	}
	texts := []string{"how do i get my money back", "refund policy: a b c", "", "the server listens on port 8000",
		"a", "unbelievable cafe, word word word word word word word", strings.Repeat("word ", 5000)}
	vecs, err := l.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
	}
	for i, v := range vecs {
		if len(v) != 384 || math.Abs(norm2(v)-1) > 1e-5 {
			t.Errorf("vector %d: len %d, norm %f; want 384, 1", i, len(v), norm2(v))
		}
	}
	if dot(vecs[0], vecs[3]) > 0.99 {
		t.Error("different texts embed alike")
	}
	// Batching (with padding to the batch's longest text) equals one by one.
	for i, text := range texts {
		one, err := l.Embed(ctx, []string{text})
		if err != nil {
			t.Fatal(err)
		}
		closeVecs(t, "batched vs single "+itoa(i), vecs[i], one[0])
	}
	// Deterministic.
	again, err := l.Embed(ctx, texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range texts {
		if !slices.Equal(vecs[i], again[i]) {
			t.Errorf("text %d: embedding changed between calls", i)
		}
	}
	// Truncation: text past MaxTokens does not change the embedding.
	long, err := l.Embed(ctx, []string{strings.Repeat("word ", 300), strings.Repeat("word ", 300) + strings.Repeat("money ", 500)})
	if err != nil {
		t.Fatal(err)
	}
	closeVecs(t, "truncated texts", long[0], long[1])
}

func TestLocalConcurrent(t *testing.T) {
	l := newToy(t, LocalOptions{BatchSize: 2})
	want, err := l.Embed(context.Background(), []string{"how do i get my money back", "refund policy"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			got, err := l.Embed(context.Background(), []string{"how do i get my money back", "refund policy"})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Error("concurrent call got a different embedding")
				}
			}
		})
	}
	wg.Wait()
}

func TestLocalCancelledAndClosed(t *testing.T) {
	l := newToy(t, LocalOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Embed(ctx, []string{"a", "b"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: err = %v, want context.Canceled", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := l.Embed(context.Background(), []string{"a"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Embed after Close: err = %v, want closed", err)
	}
	// The environment starts again for a new Local after the last one closed.
	newToy(t, LocalOptions{})
}

func TestNewLocalErrors(t *testing.T) {
	lib := testLibrary(t)
	for _, tc := range []struct {
		name string
		opts LocalOptions
		want string
	}{
		{"no library", LocalOptions{LibraryPath: "/nonexistent/libonnxruntime.so", ModelDir: t.TempDir()}, "install-onnxruntime.sh"},
		{"no model dir", LocalOptions{LibraryPath: lib}, "model directory"},
		{"empty model dir", LocalOptions{LibraryPath: lib, ModelDir: t.TempDir()}, "model.onnx"},
	} {
		_, err := NewLocal(tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// realModelDir is $EMBED_MODEL_DIR: a folder with the real all-MiniLM-L6-v2
// (model.onnx or onnx/model.onnx, vocab.txt or tokenizer.json). No registry
// this project reaches ships those weights, so these tests skip without it.
func realModelDir(t testing.TB) string {
	dir := os.Getenv("EMBED_MODEL_DIR")
	if dir == "" {
		t.Skip("EMBED_MODEL_DIR unset: no all-MiniLM-L6-v2 weights to test the real model with")
	}
	return dir
}

func TestLocalRealModelSimilarity(t *testing.T) {
	l := newToy(t, LocalOptions{ModelDir: realModelDir(t)})
	vecs, err := l.Embed(context.Background(), []string{
		"how do I get my money back",
		"refund policy: customers may return items for a full refund",
		"the server listens on port 8000",
	})
	if err != nil {
		t.Fatal(err)
	}
	refund, port := dot(vecs[0], vecs[1]), dot(vecs[0], vecs[2])
	t.Logf("query·refund %.3f, query·port %.3f", refund, port)
	if refund <= port+0.1 {
		t.Errorf("query closer to the port sentence (%.3f) than to the refund policy (%.3f)", port, refund)
	}
}
