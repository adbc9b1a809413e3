//go:build onnx

package embed

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"google.golang.org/protobuf/encoding/protowire"
)

// A minimal ONNX writer for the tests' stand-in models: the real
// all-MiniLM-L6-v2 weights come from no registry this project reaches, so
// the tests build models with the same inputs and outputs (and, for the
// benchmark, the same matrix sizes) from the ONNX protobuf's field numbers.

type msg []byte

func (m msg) str(field protowire.Number, s string) msg {
	m = protowire.AppendTag(m, field, protowire.BytesType)
	return protowire.AppendString(m, s)
}

func (m msg) sub(field protowire.Number, b msg) msg {
	m = protowire.AppendTag(m, field, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) num(field protowire.Number, v int64) msg {
	m = protowire.AppendTag(m, field, protowire.VarintType)
	return protowire.AppendVarint(m, uint64(v))
}

const (
	onnxFloat = 1
	onnxInt64 = 7
)

// graph collects nodes, initializers, inputs and outputs.
type graph struct {
	nodes, inits, ins, outs []msg
	rng                     *rand.Rand
	n                       int
}

func newGraph() *graph { return &graph{rng: rand.New(rand.NewPCG(1, 2))} }

// node adds op(inputs) with attributes (int or []int64) and returns its output's name.
func (g *graph) node(op string, inputs []string, attrs map[string]any) string {
	g.n++
	out := op + "_" + string(rune('a'+g.n%26)) + "_" + itoa(g.n)
	n := msg{}
	for _, in := range inputs {
		n = n.str(1, in)
	}
	n = n.str(2, out).str(3, out).str(4, op)
	for k, v := range attrs {
		a := msg{}.str(1, k)
		switch v := v.(type) {
		case int:
			a = a.num(3, int64(v)).num(20, 2) // INT
		case []int64:
			for _, x := range v {
				a = a.num(8, x)
			}
			a = a.num(20, 7) // INTS
		}
		n = n.sub(5, a)
	}
	g.nodes = append(g.nodes, n)
	return out
}

func (g *graph) tensor(name string, dtype int64, dims []int64, raw []byte) string {
	t := msg{}
	for _, d := range dims {
		t = t.num(1, d)
	}
	t = t.num(2, dtype).str(8, name).sub(9, raw)
	g.inits = append(g.inits, t)
	return name
}

func (g *graph) floats(name string, dims []int64, scale float64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	raw := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(g.rng.NormFloat64()*scale)))
	}
	return g.tensor(name, onnxFloat, dims, raw)
}

func (g *graph) ints(name string, dims []int64, vals ...int64) string {
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return g.tensor(name, onnxInt64, dims, raw)
}

// valueInfo declares a tensor input or output; dims < 0 are symbolic.
func valueInfo(name string, elem int64, dims ...int64) msg {
	shape := msg{}
	for i, d := range dims {
		dim := msg{}
		if d < 0 {
			dim = dim.str(2, "d"+itoa(i))
		} else {
			dim = dim.num(1, d)
		}
		shape = shape.sub(1, dim)
	}
	tensorType := msg{}.num(1, elem).sub(2, shape)
	return msg{}.str(1, name).sub(2, msg{}.sub(1, tensorType))
}

func (g *graph) model() []byte {
	gr := msg{}
	for _, n := range g.nodes {
		gr = gr.sub(1, n)
	}
	gr = gr.str(2, "test")
	for _, t := range g.inits {
		gr = gr.sub(5, t)
	}
	for _, v := range g.ins {
		gr = gr.sub(11, v)
	}
	for _, v := range g.outs {
		gr = gr.sub(12, v)
	}
	m := msg{}.num(1, 7).str(2, "connector-test").sub(7, gr).sub(8, msg{}.str(1, "").num(2, 13))
	return m
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// bertInputs declares the three BERT inputs, [batch, sequence] int64.
func (g *graph) bertInputs() {
	for _, n := range []string{"input_ids", "attention_mask", "token_type_ids"} {
		g.ins = append(g.ins, valueInfo(n, onnxInt64, -1, -1))
	}
}

// toyModel maps each token id to a random 384-vector (ids modulo 97, so a
// small table covers any vocabulary): different texts get different
// embeddings, and padding changes them unless pooling masks it out.
func toyModel() []byte {
	g := newGraph()
	g.bertInputs()
	table := g.floats("table", []int64{97, localDims}, 1)
	k := g.ints("k", nil, 97)
	mod := g.node("Mod", []string{"input_ids", k}, nil)
	g.nodes = append(g.nodes, msg{}.str(1, table).str(1, mod).str(2, "last_hidden_state").str(3, "gather").str(4, "Gather"))
	g.outs = append(g.outs, valueInfo("last_hidden_state", onnxFloat, -1, -1, localDims))
	return g.model()
}

// miniLMShapedModel has all-MiniLM-L6-v2's shape and so its cost: 6 layers
// of 12-head self-attention and a 1536-wide feed-forward over 384 dims, with
// random weights (its vectors mean nothing; the benchmark times it).
func miniLMShapedModel() []byte {
	const layers, hidden, heads, ffn = 6, localDims, 12, 1536
	g := newGraph()
	g.bertInputs()
	table := g.floats("table", []int64{97, hidden}, 0.5)
	k := g.ints("k", nil, 97)
	x := g.node("Gather", []string{table, g.node("Mod", []string{"input_ids", k}, nil)}, nil)
	split := g.ints("split", []int64{4}, 0, 0, heads, hidden/heads)
	merge := g.ints("merge", []int64{3}, 0, 0, hidden)
	w := func(name string, rows, cols int64) string { return g.floats(name, []int64{rows, cols}, 0.05) }
	for l := range layers {
		p := "l" + itoa(l) + "_"
		headsOf := func(w string, perm []int64) string {
			r := g.node("Reshape", []string{g.node("MatMul", []string{x, w}, nil), split}, nil)
			return g.node("Transpose", []string{r}, map[string]any{"perm": perm})
		}
		q := headsOf(w(p+"q", hidden, hidden), []int64{0, 2, 1, 3})
		kt := headsOf(w(p+"k", hidden, hidden), []int64{0, 2, 3, 1})
		v := headsOf(w(p+"v", hidden, hidden), []int64{0, 2, 1, 3})
		att := g.node("Softmax", []string{g.node("MatMul", []string{q, kt}, nil)}, map[string]any{"axis": -1})
		ctx := g.node("Transpose", []string{g.node("MatMul", []string{att, v}, nil)}, map[string]any{"perm": []int64{0, 2, 1, 3}})
		ctx = g.node("Reshape", []string{ctx, merge}, nil)
		a := g.node("Add", []string{x, g.node("MatMul", []string{ctx, w(p+"o", hidden, hidden)}, nil)}, nil)
		f := g.node("Relu", []string{g.node("MatMul", []string{a, w(p+"f1", hidden, ffn)}, nil)}, nil)
		x = g.node("Add", []string{a, g.node("MatMul", []string{f, w(p+"f2", ffn, hidden)}, nil)}, nil)
	}
	g.nodes = append(g.nodes, msg{}.str(1, x).str(2, "last_hidden_state").str(3, "out").str(4, "Identity"))
	g.outs = append(g.outs, valueInfo("last_hidden_state", onnxFloat, -1, -1, localDims))
	return g.model()
}
