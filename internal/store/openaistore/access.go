package openaistore

import (
	"slices"
	"strconv"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/connectorhq/connector/internal/access"
)

// Access lists live in file attributes, one term a key: access_0,
// access_1, … each hold one of the document's access.List.Terms (a
// principal, or access.Unlisted for a document without a list). A search
// selects the files whose access_i is in the caller's terms, for some i;
// fetch and URL look-ups check the same attributes.
const (
	attrAccessPrefix = "access_"

	// MaxPrincipals is the most principals a document's access list may
	// name in a vector store: each takes one of the 16 attributes a file
	// may have, beside the syncer's own six and some metadata.
	MaxPrincipals = 8
)

// accessKey is the attribute holding a document's ith access term.
func accessKey(i int) string { return attrAccessPrefix + strconv.Itoa(i) }

// isAccessKey reports whether k is one of the access attributes, which are
// internal: never metadata, never shown.
func isAccessKey(k string) bool {
	n, ok := strings.CutPrefix(k, attrAccessPrefix)
	if !ok {
		return false
	}
	i, err := strconv.Atoi(n)
	return err == nil && i >= 0 && i < MaxPrincipals && accessKey(i) == k
}

// accessAttributes returns the access attributes of a document with list
// l; l has at most MaxPrincipals principals.
func accessAttributes(l access.List) map[string]string {
	out := map[string]string{}
	for i, t := range l.Terms() {
		out[accessKey(i)] = t
	}
	return out
}

// storedTerms returns the access terms a file's attributes hold. A file
// without any access attribute (one uploaded by another tool) is unlisted:
// the DEFAULT_ACCESS decides, as for documents indexed without a list.
func storedTerms(attrs map[string]string) []string {
	var terms []string
	for i := range MaxPrincipals {
		if t, ok := attrs[accessKey(i)]; ok {
			terms = append(terms, t)
		}
	}
	if terms == nil {
		return []string{access.Unlisted}
	}
	return terms
}

// readable reports whether a caller with the terms of access.Caller.Terms
// (sorted; all for a caller who reads everything) may read a file with the
// stored terms: the two share one.
func readable(caller []string, all bool, stored []string) bool {
	if all {
		return true
	}
	for _, t := range stored {
		if _, ok := slices.BinarySearch(caller, t); ok {
			return true
		}
	}
	return false
}

// accessFilter is the search filter that selects the files a caller with
// terms (not empty) may read: access_0 in terms, or access_1 in terms, …
// Files without access attributes match none of these: a filtered search
// does not find them, though fetch treats them as unlisted.
func accessFilter(terms []string) openai.VectorStoreSearchParamsFiltersUnion {
	values := make([]shared.ComparisonFilterValueArrayItemUnionParam, len(terms))
	for i, t := range terms {
		values[i] = shared.ComparisonFilterValueArrayItemUnionParam{OfString: openai.String(t)}
	}
	filters := make([]shared.CompoundFilterFilterUnionParam, MaxPrincipals)
	for i := range filters {
		filters[i] = shared.CompoundFilterFilterUnionParam{OfComparison: &shared.ComparisonFilterParam{
			Key:   accessKey(i),
			Type:  shared.ComparisonFilterTypeIn,
			Value: shared.ComparisonFilterValueUnionParam{OfComparisonFilterValueArray: values},
		}}
	}
	return openai.VectorStoreSearchParamsFiltersUnion{OfCompoundFilter: &shared.CompoundFilterParam{
		Type: shared.CompoundFilterTypeOr, Filters: filters,
	}}
}
