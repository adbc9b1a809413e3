package bm25

import (
	"context"
	"encoding/binary"
	"math"
)

// Params shape the BM25 scores.
type Params struct {
	K1 float64 // term frequency saturation (1.2 when 0)
	B  float64 // length normalisation strength (0.75 when 0)
	// LengthScale multiplies each field's mean length before passages are
	// normalised by it: below 1, long passages are penalised more (1 when 0).
	LengthScale float64
}

// Clause is one part of a query: a term in a field, or a few candidate
// spellings of a term counted as one clause.
type Clause struct {
	Field int
	Terms []string
	Boost float64
}

// Match is a scored passage.
type Match struct {
	Passage uint32
	Score   float64
}

// Search scores every passage matching a clause and returns the k best,
// best first (ties in passage order). A passage's score is the sum of its
// clauses' BM25 scores times the share of clauses it matches, so passages
// matching more of the query rank first.
//
// Each term scores boost·idf²·√f·k1 / (√f + k1·(1 − b + b·len/avg)): the
// weighting of the bleve full-text engine, which the relevance experiments
// were tuned with (idf enters twice, once as the query weight).
func (ix *Index) Search(ctx context.Context, clauses []Clause, k int, p Params) ([]Match, error) {
	if k <= 0 || len(clauses) == 0 || ix.n == 0 {
		return nil, ctx.Err()
	}
	q, err := ix.NewQuery(ctx, p)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	if err := q.Add(ctx, clauses); err != nil {
		return nil, err
	}
	return q.Top(k), nil
}

// Query is a search built in rounds: clauses are added and the best
// passages read, then more clauses are added (pseudo-relevance feedback
// adds the terms of a first round's best passages) without scoring the
// first clauses again. Its results after any round equal those of Search
// with all the clauses added so far. A Query is used by one goroutine; Close
// returns its memory to the index.
type Query struct {
	ix      *Index
	acc     *accumulator
	p       Params
	clauses int
}

// NewQuery starts a query. At most a few queries per CPU score at once;
// NewQuery waits for a turn, or returns ctx's error when it ends first.
func (ix *Index) NewQuery(ctx context.Context, p Params) (*Query, error) {
	if p.K1 == 0 {
		p.K1 = 1.2
	}
	if p.B == 0 {
		p.B = 0.75
	}
	if p.LengthScale == 0 {
		p.LengthScale = 1
	}
	select {
	case ix.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &Query{ix: ix, acc: ix.accumulator(), p: p}, nil
}

// Close releases the query; it must not be used afterwards.
func (q *Query) Close() {
	if q.acc != nil {
		q.ix.release(q.acc)
		q.acc = nil
		<-q.ix.slots
	}
}

// Top returns the k best passages for the clauses added so far, best first
// (ties in passage order).
func (q *Query) Top(k int) []Match {
	if k <= 0 || q.clauses == 0 {
		return nil
	}
	return q.acc.top(k, float64(q.clauses))
}

// Add scores the passages matching clauses.
func (q *Query) Add(ctx context.Context, clauses []Clause) error {
	ix, acc, p := q.ix, q.acc, q.p
	q.clauses += len(clauses)
	n := float64(ix.n)
	for _, c := range clauses {
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.Field < 0 || c.Field >= len(ix.fields) || len(c.Terms) == 0 {
			continue
		}
		f := &ix.fields[c.Field]
		avg := f.avg * p.LengthScale
		if avg <= 0 {
			continue
		}
		acc.clock++
		share := 1 / float64(len(c.Terms))
		for _, t := range c.Terms {
			postings, df, ok := ix.lookup(c.Field, t)
			if !ok {
				continue
			}
			idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
			w := c.Boost * idf * idf * share * p.K1
			lengthNorm := p.K1 * p.B / avg
			base := p.K1 * (1 - p.B)
			ord := uint32(0)
			slots, touched, clock := acc.slots, acc.touched, acc.clock
			for len(postings) > 0 {
				var delta, freq uint64
				if postings[0] < 0x80 && len(postings) > 1 && postings[1] < 0x80 {
					// Both one byte long: most postings.
					delta, freq = uint64(postings[0]), uint64(postings[1])
					postings = postings[2:]
				} else {
					var a, b int
					if delta, a = binary.Uvarint(postings); a <= 0 {
						break
					}
					if freq, b = binary.Uvarint(postings[a:]); b <= 0 {
						break
					}
					postings = postings[a+b:]
				}
				ord += uint32(delta)
				if ord >= ix.n {
					break
				}
				tf := sqrt(freq)
				s := w * tf / (tf + base + lengthNorm*float64(f.lengths[ord]))
				// Count s for the passage, without branching on whether it
				// was touched before or counted for this clause yet: either
				// is as likely as not, and mispredicting them cost more than
				// the rest of the work. (Written here, not as a method: a
				// call keeps the processor from overlapping one posting's
				// division with the next's.)
				sl := &slots[ord]
				touched = touched[:len(touched)+1]
				touched[len(touched)-1] = ord
				touched = touched[:len(touched)-1+b2i(sl.matched == 0)]
				sl.matched += uint32(b2i(sl.stamp != clock))
				sl.stamp = clock
				sl.score += s
			}
			acc.touched = touched
		}
	}
	return nil
}

// accumulator holds the scores of one search.
type accumulator struct {
	slots   []slot // one per passage
	clock   uint32
	touched []uint32
	heap    []Match
}

// slot is a passage's share of a search, kept together so that scoring a
// posting touches one cache line.
type slot struct {
	score   float64
	matched uint32 // clauses the passage matches
	stamp   uint32 // clock of the last clause that counted it as matched
}

func (ix *Index) accumulator() *accumulator {
	ix.freeMu.Lock()
	if n := len(ix.free); n > 0 {
		a := ix.free[n-1]
		ix.free = ix.free[:n-1]
		ix.freeMu.Unlock()
		return a
	}
	ix.freeMu.Unlock()
	return &accumulator{slots: make([]slot, ix.n), touched: make([]uint32, 0, ix.n+1)}
}

func (ix *Index) release(a *accumulator) {
	for _, o := range a.touched {
		a.slots[o].score, a.slots[o].matched = 0, 0
	}
	a.touched = a.touched[:0]
	if a.clock > math.MaxUint32-1<<20 { // start the stamps again long before they wrap
		for i := range a.slots {
			a.slots[i].stamp = 0
		}
		a.clock = 0
	}
	ix.freeMu.Lock()
	if len(ix.free) < cap(ix.slots) { // always, while slots bound the queries
		ix.free = append(ix.free, a)
	}
	ix.freeMu.Unlock()
}

// b2i is 1 for true, 0 for false (the compiler makes it a flag move, not
// a branch).
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// top returns the k best passages, each score scaled by its share of the
// clauses.
func (a *accumulator) top(k int, clauses float64) []Match {
	// Matches are compared by score times clauses matched; dividing by the
	// clause count, the same for all, waits until the k best are known.
	h := a.heap[:0] // a min-heap: its root is the worst of the best k
	for _, o := range a.touched {
		sl := &a.slots[o]
		m := Match{Passage: o, Score: sl.score * float64(sl.matched)}
		if len(h) < k {
			h = append(h, m)
			siftUp(h, len(h)-1)
		} else if better(m, h[0]) {
			h[0] = m
			siftDown(h, 0)
		}
	}
	out := make([]Match, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = Match{Passage: h[0].Passage, Score: h[0].Score / clauses}
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		siftDown(h, 0)
	}
	a.heap = h
	return out
}

// siftUp and siftDown keep h a min-heap under better (container/heap's
// algorithm, without boxing each Match in an interface).
func siftUp(h []Match, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !better(h[parent], h[i]) {
			break
		}
		h[parent], h[i] = h[i], h[parent]
		i = parent
	}
}

func siftDown(h []Match, i int) {
	for {
		child := 2*i + 1
		if child >= len(h) {
			return
		}
		if r := child + 1; r < len(h) && better(h[child], h[r]) {
			child = r
		}
		if !better(h[i], h[child]) {
			return
		}
		h[i], h[child] = h[child], h[i]
		i = child
	}
}

// sqrt is math.Sqrt of a term frequency, from a table for the common ones.
func sqrt(f uint64) float64 {
	if f < uint64(len(sqrtTable)) {
		return sqrtTable[f]
	}
	return math.Sqrt(float64(f))
}

var sqrtTable = func() (t [64]float64) {
	for i := range t {
		t[i] = math.Sqrt(float64(i))
	}
	return t
}()

// better orders matches best first: higher score, then lower ordinal.
func better(x, y Match) bool {
	if x.Score != y.Score {
		return x.Score > y.Score
	}
	return x.Passage < y.Passage
}
