//go:build onnx

package embed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// wordPiece is the uncased BERT tokenizer all-MiniLM-L6-v2 was trained with:
// clean, lower-case, strip accents, split on whitespace and punctuation, then
// greedy longest-match word pieces ("##" marks a continuation). Written here
// rather than imported because the Go tokenizer libraries pull in a dozen
// modules for this one path.
type wordPiece struct {
	vocab          map[string]int64
	cls, sep, unk  int64
	maxCharsOfWord int
}

// loadVocab reads the vocabulary from vocab.txt (one token a line, the id is
// the line number) or tokenizer.json (a Hugging Face tokenizer's model.vocab).
func loadVocab(path string) (*wordPiece, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vocab := map[string]int64{}
	if strings.HasSuffix(path, ".json") {
		var tj struct {
			Model struct {
				Type  string           `json:"type"`
				Vocab map[string]int64 `json:"vocab"`
			} `json:"model"`
		}
		if err := json.Unmarshal(data, &tj); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if tj.Model.Type != "WordPiece" {
			return nil, fmt.Errorf("%s: tokenizer model is %q, want WordPiece", path, tj.Model.Type)
		}
		vocab = tj.Model.Vocab
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for id := int64(0); sc.Scan(); id++ {
			vocab[strings.TrimRight(sc.Text(), "\r")] = id
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	wp := &wordPiece{vocab: vocab, maxCharsOfWord: 100}
	for tok, dst := range map[string]*int64{"[CLS]": &wp.cls, "[SEP]": &wp.sep, "[UNK]": &wp.unk} {
		id, ok := vocab[tok]
		if !ok {
			return nil, fmt.Errorf("%s: vocabulary has no %s token: not a BERT vocabulary", path, tok)
		}
		*dst = id
	}
	return wp, nil
}

// encode returns [CLS] pieces... [SEP], at most maxTokens ids: longer texts
// are truncated, as sentence-transformers does, and tokenising stops there.
func (wp *wordPiece) encode(text string, maxTokens int) []int64 {
	ids := make([]int64, 0, min(maxTokens, len(text)/3+2))
	ids = append(ids, wp.cls)
	limit := maxTokens - 1 // room for [SEP]
	for _, word := range basicTokens(text) {
		if len(ids) >= limit {
			break
		}
		ids = wp.appendPieces(ids, word, limit)
	}
	return append(ids, wp.sep)
}

// appendPieces appends word's pieces, or [UNK] when it cannot be split.
func (wp *wordPiece) appendPieces(ids []int64, word string, limit int) []int64 {
	runes := []rune(word)
	if len(runes) > wp.maxCharsOfWord {
		return append(ids, wp.unk)
	}
	start := len(ids)
	for begin := 0; begin < len(runes); {
		end, id := len(runes), int64(-1)
		for ; end > begin; end-- {
			piece := string(runes[begin:end])
			if begin > 0 {
				piece = "##" + piece
			}
			if v, ok := wp.vocab[piece]; ok {
				id = v
				break
			}
		}
		if id < 0 {
			return append(ids[:start], wp.unk)
		}
		if len(ids) < limit {
			ids = append(ids, id)
		}
		begin = end
	}
	return ids
}

// basicTokens cleans, lower-cases and strips accents, then splits on
// whitespace, punctuation and CJK ideographs (each its own token).
func basicTokens(text string) []string {
	text = norm.NFD.String(strings.ToLower(text))
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r == 0 || r == unicode.ReplacementChar || unicode.Is(unicode.Mn, r):
			// dropped: NUL, invalid bytes, and accents after NFD
		case unicode.IsSpace(r):
			flush()
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			// dropped
		case isPunct(r) || isCJK(r):
			flush()
			out = append(out, string(r))
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// isPunct follows BERT: all ASCII non-alphanumerics count, as do Unicode P*.
func isPunct(r rune) bool {
	if (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126) {
		return true
	}
	return unicode.IsPunct(r)
}

func isCJK(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B820 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}
