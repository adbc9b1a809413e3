package blevestore

import (
	"strconv"
	"strings"
)

// Documents are indexed as passages (internal/passage): a document record
// and one record per passage, whose id is the document id, passageSep and
// the passage's index from 0 (its passage.Anchor number less one).

// passageSep joins a document id and a passage number in a passage record's id.
const passageSep = "\x1f"

func passageID(docID string, n int) string { return docID + passageSep + strconv.Itoa(n) }

// parentID returns the document id of a passage record id.
func parentID(id string) string {
	if i := strings.LastIndex(id, passageSep); i >= 0 {
		return id[:i]
	}
	return id
}

// passageIndex returns the index (from 0) of a passage record id, and
// whether the id names one.
func passageIndex(id string) (int, bool) {
	i := strings.LastIndex(id, passageSep)
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(id[i+len(passageSep):])
	return n, err == nil && n >= 0
}
