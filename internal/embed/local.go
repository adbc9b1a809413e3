//go:build onnx

package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// DefaultLibraryRelPath is where scripts/install-onnxruntime.sh puts the ONNX
// Runtime library, relative to the repository's root.
const DefaultLibraryRelPath = "third_party/onnxruntime/node_modules/onnxruntime-node/bin/napi-v3/linux/x64/libonnxruntime.so.1.20.1"

// LocalOptions configures NewLocal. Zero values take the defaults.
type LocalOptions struct {
	// LibraryPath is the ONNX Runtime shared library, version 1.20.x (the
	// C API onnxruntime_go v1.17 binds). Default: DefaultLibraryPath().
	LibraryPath string
	// ModelDir holds the model as Hugging Face lays it out: model.onnx (or
	// onnx/model.onnx) and vocab.txt (or tokenizer.json). Required.
	ModelDir string
	// BatchSize bounds the texts run through the model at once (default 32):
	// bigger batches amortise calls, but pad every text to the longest one.
	BatchSize int
	// Threads is ONNX Runtime's intra-op thread count (default: GOMAXPROCS,
	// at most 8). One batch runs at a time and uses them all.
	Threads int
	// MaxTokens truncates each text to that many word pieces, [CLS] and
	// [SEP] included (default 256, the length the model was trained on;
	// at most 512, its position embeddings' limit).
	MaxTokens int
	Logger    *slog.Logger
}

// DefaultLibraryPath is $ONNXRUNTIME_LIB when set; otherwise
// DefaultLibraryRelPath under the working directory or the nearest parent
// directory that has it (so it resolves from the repository's root and from
// a package's directory under go test); "" when neither exists.
func DefaultLibraryPath() string {
	if p := os.Getenv("ONNXRUNTIME_LIB"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, DefaultLibraryRelPath)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Local embeds texts in-process with all-MiniLM-L6-v2 on ONNX Runtime: word
// pieces, the model, mean pooling over the attention mask, L2 normalisation
// (the sentence-transformers pipeline). Safe for concurrent use: batches
// run one at a time, since one batch already uses every intra-op thread.
type Local struct {
	opts    LocalOptions
	tok     *wordPiece
	inputs  []string // the model's inputs, a subset of input_ids, attention_mask, token_type_ids
	pooled  bool     // the output is already one vector per text (sentence_embedding)
	runMu   sync.Mutex
	session *ort.DynamicAdvancedSession
	closed  bool
}

// NewLocal loads the model. It fails with an actionable error when the ONNX
// Runtime library or the model files are missing.
func NewLocal(opts LocalOptions) (*Local, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	if opts.Threads <= 0 {
		opts.Threads = min(runtime.GOMAXPROCS(0), 8)
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = 256
	}
	opts.MaxTokens = min(max(opts.MaxTokens, 3), 512)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.LibraryPath == "" {
		opts.LibraryPath = DefaultLibraryPath()
	}
	if opts.LibraryPath == "" {
		return nil, errors.New("local embeddings: ONNX Runtime library not found: run scripts/install-onnxruntime.sh " +
			"and set ONNXRUNTIME_LIB to the path it prints (or run from the repository)")
	}
	if _, err := os.Stat(opts.LibraryPath); err != nil {
		return nil, fmt.Errorf("local embeddings: ONNX Runtime library: %w; run scripts/install-onnxruntime.sh and set ONNXRUNTIME_LIB to the path it prints", err)
	}
	modelPath, vocabPath, err := findModelFiles(opts.ModelDir)
	if err != nil {
		return nil, err
	}
	tok, err := loadVocab(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("local embeddings: %w", err)
	}

	if err := sharedRuntime.acquire(opts.LibraryPath); err != nil {
		return nil, err
	}
	l := &Local{opts: opts, tok: tok}
	if err := l.openSession(modelPath); err != nil {
		sharedRuntime.release()
		return nil, err
	}
	opts.Logger.Info("local embeddings ready", "model", DefaultLocalModel, "onnxruntime", ort.GetVersion(),
		"threads", opts.Threads, "batch", opts.BatchSize, "max_tokens", opts.MaxTokens)
	return l, nil
}

// findModelFiles locates the ONNX file and the vocabulary in dir.
func findModelFiles(dir string) (model, vocab string, err error) {
	if dir == "" {
		return "", "", errors.New("local embeddings: no model directory: set it to a folder holding all-MiniLM-L6-v2's " +
			"model.onnx (or onnx/model.onnx) and vocab.txt (or tokenizer.json)")
	}
	first := func(names ...string) string {
		for _, n := range names {
			if p := filepath.Join(dir, n); fileExists(p) {
				return p
			}
		}
		return ""
	}
	model = first("model.onnx", "onnx/model.onnx")
	vocab = first("vocab.txt", "tokenizer.json")
	if model == "" || vocab == "" {
		return "", "", fmt.Errorf("local embeddings: %s must hold all-MiniLM-L6-v2's model.onnx (or onnx/model.onnx) "+
			"and vocab.txt (or tokenizer.json), as the Hugging Face repository lays them out", dir)
	}
	return model, vocab, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// openSession reads the model's inputs and outputs, checks they are a BERT
// encoder's, and opens the session with the thread settings.
func (l *Local) openSession(modelPath string) error {
	ins, outs, err := ort.GetInputOutputInfo(modelPath)
	if err != nil {
		return fmt.Errorf("local embeddings: reading %s: %w", modelPath, err)
	}
	known := map[string]bool{"input_ids": true, "attention_mask": true, "token_type_ids": true}
	for _, in := range ins {
		if !known[in.Name] {
			return fmt.Errorf("local embeddings: %s has input %q: not a BERT encoder export", modelPath, in.Name)
		}
		l.inputs = append(l.inputs, in.Name)
	}
	if !slices.Contains(l.inputs, "input_ids") {
		return fmt.Errorf("local embeddings: %s has no input_ids input: not a BERT encoder export", modelPath)
	}
	// Prefer a pooled output when the export has one; else pool the tokens'.
	var output ort.InputOutputInfo
	for _, o := range outs {
		if o.Name == "sentence_embedding" {
			output, l.pooled = o, true
		}
	}
	if !l.pooled {
		i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == "last_hidden_state" })
		if i < 0 {
			i = 0
		}
		output = outs[i]
	}
	dims := output.Dimensions
	if n := len(dims); n == 0 || (dims[n-1] > 0 && dims[n-1] != int64(localDims)) {
		return fmt.Errorf("local embeddings: %s output %q has shape %v, want last dimension %d (is it %s?)",
			modelPath, output.Name, dims, localDims, DefaultLocalModel)
	}

	so, err := ort.NewSessionOptions()
	if err != nil {
		return fmt.Errorf("local embeddings: %w", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(l.opts.Threads); err != nil {
		return fmt.Errorf("local embeddings: intra-op threads: %w", err)
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fmt.Errorf("local embeddings: inter-op threads: %w", err)
	}
	l.session, err = ort.NewDynamicAdvancedSession(modelPath, l.inputs, []string{output.Name}, so)
	if err != nil {
		return fmt.Errorf("local embeddings: loading %s: %w", modelPath, err)
	}
	return nil
}

// Model reports all-MiniLM-L6-v2, 384 dimensions.
func (l *Local) Model() Model { return Model{Name: DefaultLocalModel, Dims: localDims} }

// Embed returns one unit vector per text, in order. Texts are tokenised,
// grouped by length (less padding), and run BatchSize at a time; ctx is
// checked between batches. Empty texts embed like any other.
func (l *Local) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, ctx.Err()
	}
	ids := make([][]int64, len(texts))
	for i, t := range texts {
		ids[i] = l.tok.encode(t, l.opts.MaxTokens)
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(ids[a]), len(ids[b])) })

	out := make([][]float32, len(texts))
	start := time.Now()
	for lo := 0; lo < len(order); lo += l.opts.BatchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		batch := order[lo:min(lo+l.opts.BatchSize, len(order))]
		seqs := make([][]int64, len(batch))
		for i, j := range batch {
			seqs[i] = ids[j]
		}
		vecs, err := l.runBatch(seqs)
		if err != nil {
			return nil, err
		}
		for i, j := range batch {
			out[j] = vecs[i]
		}
	}
	l.opts.Logger.Debug("embedded", "texts", len(texts), "took", time.Since(start))
	return out, nil
}

// runBatch pads the sequences to the longest, runs the model and pools.
func (l *Local) runBatch(seqs [][]int64) ([][]float32, error) {
	// One batch at a time: it already uses every intra-op thread, and the
	// lock orders Close after any batch in flight.
	l.runMu.Lock()
	defer l.runMu.Unlock()
	if l.closed {
		return nil, errors.New("local embeddings: embedder is closed")
	}
	b, s := len(seqs), 0
	for _, q := range seqs {
		s = max(s, len(q))
	}
	inputIDs := make([]int64, b*s)
	mask := make([]int64, b*s)
	for i, q := range seqs {
		copy(inputIDs[i*s:], q)
		for k := range q {
			mask[i*s+k] = 1
		}
	}
	shape := ort.NewShape(int64(b), int64(s))
	data := map[string][]int64{"input_ids": inputIDs, "attention_mask": mask, "token_type_ids": make([]int64, b*s)}
	inputs := make([]ort.Value, 0, len(l.inputs))
	defer func() {
		for _, v := range inputs {
			v.Destroy()
		}
	}()
	for _, name := range l.inputs {
		t, err := ort.NewTensor(shape, data[name])
		if err != nil {
			return nil, fmt.Errorf("local embeddings: %s tensor: %w", name, err)
		}
		inputs = append(inputs, t)
	}
	dims := localDims
	outShape := ort.NewShape(int64(b), int64(s), int64(dims))
	if l.pooled {
		outShape = ort.NewShape(int64(b), int64(dims))
	}
	output, err := ort.NewEmptyTensor[float32](outShape)
	if err != nil {
		return nil, fmt.Errorf("local embeddings: output tensor: %w", err)
	}
	defer output.Destroy()

	if err := l.session.Run(inputs, []ort.Value{output}); err != nil {
		return nil, fmt.Errorf("local embeddings: running the model: %w", err)
	}

	flat := output.GetData()
	vecs := make([][]float32, b)
	for i := range b {
		v := make([]float32, dims)
		if l.pooled {
			copy(v, flat[i*dims:(i+1)*dims])
		} else {
			meanPool(v, flat[i*s*dims:(i+1)*s*dims], mask[i*s:(i+1)*s])
		}
		normalize(v)
		vecs[i] = v
	}
	return vecs, nil
}

// meanPool averages the token vectors whose mask is 1 into dst.
func meanPool(dst, tokens []float32, mask []int64) {
	dims, n := len(dst), 0
	sum := make([]float64, dims)
	for t, m := range mask {
		if m == 0 {
			continue
		}
		n++
		for d, x := range tokens[t*dims : (t+1)*dims] {
			sum[d] += float64(x)
		}
	}
	for d := range dst {
		dst[d] = float32(sum[d] / float64(max(n, 1)))
	}
}

// normalize scales v to unit length (a zero vector stays zero).
func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(ss))
	for i := range v {
		v[i] *= inv
	}
}

// Close frees the session and, with the last Local, the ONNX Runtime
// environment. Embed calls after Close fail; Close is idempotent.
func (l *Local) Close() error {
	l.runMu.Lock()
	defer l.runMu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.session.Destroy()
	sharedRuntime.release()
	return err
}

// ortRuntime counts the Locals sharing ONNX Runtime's environment.
// onnxruntime_go keeps one environment per process (its own package state,
// with the library path set once before it starts), so the first Local
// starts it and the last one to close destroys it; this is the package's
// one piece of process-wide state, mirroring the library's.
type ortRuntime struct {
	mu   sync.Mutex
	refs int
	lib  string
}

var sharedRuntime = &ortRuntime{}

func (r *ortRuntime) acquire(lib string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs > 0 {
		if lib != r.lib {
			return fmt.Errorf("local embeddings: ONNX Runtime already loaded from %s; cannot also load %s in one process", r.lib, lib)
		}
		r.refs++
		return nil
	}
	ort.SetSharedLibraryPath(lib)
	if err := ort.InitializeEnvironment(); err != nil {
		return fmt.Errorf("local embeddings: starting ONNX Runtime from %s (it must be version 1.20.x; "+
			"scripts/install-onnxruntime.sh installs it): %w", lib, err)
	}
	r.refs, r.lib = 1, lib
	return nil
}

func (r *ortRuntime) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs == 0 {
		return
	}
	if r.refs--; r.refs == 0 {
		if err := ort.DestroyEnvironment(); err != nil {
			slog.Warn("local embeddings: destroying ONNX Runtime environment", "err", err)
		}
	}
}

// newLocal is the local provider: NewLocal with cfg's model folder and
// library (see Config.Check for what it accepts).
func newLocal(cfg Config) (Embedder, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return NewLocal(LocalOptions{ModelDir: cfg.ModelDir, LibraryPath: cfg.LibraryPath, Logger: cfg.Logger})
}
