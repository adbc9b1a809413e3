package openaistore

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"
)

// Attributes the syncer sets on each vector store file. The API allows 16
// keys of at most 64 characters, with string values of at most 512.
const (
	attrDocID = "doc_id"         // the document id, as in the local index
	attrTitle = "title"          // the document title
	attrURL   = "url"            // the document's own URL, when it has one
	attrSHA   = "content_sha256" // hash of content and source, to skip unchanged documents
	attrRoot  = "source_root"    // hash of the ingest root, to scope deletions
	attrFile  = "source_file"    // the source file within the root

	maxAttributes     = 16
	maxAttributeKey   = 64
	maxAttributeValue = 512
)

// internalAttributes are bookkeeping, not shown in fetch metadata.
var internalAttributes = map[string]bool{attrSHA: true, attrRoot: true, attrFile: true, attrTitle: true, attrURL: true}

// attributeString renders an attribute's raw JSON value as a string.
func attributeString(raw string) string {
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return raw
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	default:
		return raw
	}
}

func searchAttributes(attrs map[string]openai.VectorStoreSearchResponseAttributeUnion) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		out[k] = attributeString(v.RawJSON())
	}
	return out
}

func fileAttributes(attrs map[string]openai.VectorStoreFileAttributeUnion) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		out[k] = attributeString(v.RawJSON())
	}
	return out
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i]
}

// metadataAttributes picks the metadata that fits beside the syncer's own
// attributes, in key order, and reports what did not fit.
func metadataAttributes(meta map[string]string, room int) (map[string]string, []string) {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := map[string]string{}
	var dropped []string
	for _, k := range keys {
		switch {
		case len(k) > maxAttributeKey, k == attrDocID, internalAttributes[k], isAccessKey(k):
			dropped = append(dropped, k)
		case len(out) == room:
			dropped = append(dropped, k)
		default:
			out[k] = truncateRunes(meta[k], maxAttributeValue)
		}
	}
	return out, dropped
}

// snippet returns about n characters of text around the first of the
// query's words it contains (or its opening), cut at word boundaries.
func snippet(text, query string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	lower := strings.ToLower(text)
	at := -1
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !(r == '-' || r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r > 127)
	}) {
		if len(w) < 3 {
			continue
		}
		if i := strings.Index(lower, w); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	start := 0
	if at > n/3 {
		start = at - n/3
		for start > 0 && text[start-1] != ' ' {
			start-- // back to a word start
		}
	}
	end := start + n
	if end >= len(text) {
		end = len(text)
	} else {
		for end > start && text[end] != ' ' {
			end--
		}
	}
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	out := strings.TrimSpace(text[start:end])
	if start > 0 {
		out = "… " + out
	}
	if end < len(text) {
		out += " …"
	}
	return out
}
