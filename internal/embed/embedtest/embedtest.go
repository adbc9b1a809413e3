// Package embedtest provides a deterministic embed.Embedder for tests: a
// bag-of-words hashing embedder with a small synonym table, so that texts
// sharing words (or synonyms) land close and others far apart.
package embedtest

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"unicode"

	"github.com/connectorhq/connector/internal/embed"
)

// Synonyms maps words to the concept they stand for; words not in it stand
// for themselves. "money back" and "refund" share the concept "refund".
var Synonyms = map[string]string{
	"refund": "refund", "refunds": "refund", "refunded": "refund", "money": "refund", "back": "refund",
	"reimbursement": "refund", "reimbursements": "refund", "reimbursed": "refund", "repayment": "refund",
	"car": "vehicle", "cars": "vehicle", "automobile": "vehicle", "vehicle": "vehicle", "vehicles": "vehicle",
}

// stop words carry no meaning for the fake.
var stop = map[string]bool{"a": true, "an": true, "the": true, "of": true, "and": true, "or": true,
	"to": true, "in": true, "is": true, "are": true, "my": true, "i": true, "for": true, "how": true, "do": true, "get": true}

// Embedder is a deterministic fake embed.Embedder. It counts calls and
// texts, and can be made to fail.
type Embedder struct {
	Name string // model name; "" means "fake-bow"
	Dims int    // vector length; 0 means 128

	mu    sync.Mutex
	calls int
	texts int
	fail  error
}

// New returns a fake embedder of the named model and dimensions.
func New(name string, dims int) *Embedder { return &Embedder{Name: name, Dims: dims} }

// Model implements embed.Embedder.
func (e *Embedder) Model() embed.Model {
	m := embed.Model{Name: e.Name, Dims: e.Dims}
	if m.Name == "" {
		m.Name = "fake-bow"
	}
	if m.Dims == 0 {
		m.Dims = 128
	}
	return m
}

// Calls returns the number of Embed calls so far.
func (e *Embedder) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// Texts returns the number of texts embedded so far.
func (e *Embedder) Texts() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.texts
}

// Fail makes every later Embed call return err (nil to stop failing).
func (e *Embedder) Fail(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fail = err
}

// Embed implements embed.Embedder: each word (lower case, through
// Synonyms, stop words left out) adds 1 to the dimension its hash picks;
// the vector is normalised. A text of no words gets a fixed unit vector.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.calls++
	e.texts += len(texts)
	fail := e.fail
	e.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	dims := e.Model().Dims
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = Vector(t, dims)
	}
	return out, nil
}

// Vector is the fake's vector of text.
func Vector(text string, dims int) []float32 {
	v := make([]float32, dims)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		if stop[w] {
			continue
		}
		if c, ok := Synonyms[w]; ok {
			w = c
		}
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%uint32(dims)]++
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	inv := float32(1 / math.Sqrt(norm))
	for i := range v {
		v[i] *= inv
	}
	return v
}
