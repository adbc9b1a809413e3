package access

import (
	"context"
	"slices"
)

// Unlisted is the term a store indexes for a document that carries no list.
// It is no principal (it has no kind), so no list can name it.
const Unlisted = "unlisted"

// Terms returns what a store indexes for a document with list l so that
// Caller.Terms can select it: l's principals, or Unlisted when l is empty.
func (l List) Terms() []string {
	if len(l) == 0 {
		return []string{Unlisted}
	}
	out := make([]string, len(l))
	for i, p := range l {
		out[i] = string(p)
	}
	return out
}

// Terms returns the terms of which a document's List.Terms must hold one
// for c to read it under def, the filter a store puts in its query; all is
// true when c may read every document (Everyone), and no terms with all
// false means c reads nothing. It agrees with MayRead.
func (c Caller) Terms(def Default) (terms []string, all bool) {
	if c.everyone {
		return nil, true
	}
	terms = make([]string, 0, len(c.principals)+1)
	for _, p := range c.principals {
		terms = append(terms, string(p))
	}
	if def == DefaultAuthenticated && c.has(Authenticated) {
		terms = append(terms, Unlisted)
	}
	slices.Sort(terms)
	return terms, false
}

type callerKey struct{}

// NewContext returns ctx carrying c, for the tools of a request that the
// HTTP server authenticated.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// FromContext returns the caller ctx carries, or the zero Caller, which
// reads nothing, when it carries none: a path that forgot to say who calls
// fails closed.
func FromContext(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
