package ingest

import "golang.org/x/net/html"

// This file exports the pieces of the file readers that the website
// crawler (internal/web) shares, so that a page reads like an HTML file.

// DecodeHTML returns an HTML document as UTF-8, in the encoding its byte
// order mark or <meta charset> declares (else UTF-8 when valid, else
// Windows-1252), with invalid bytes replaced.
func DecodeHTML(data []byte) string { return decodeHTML(data) }

// HTMLText returns the text a browser shows for the tree below n: blocks on
// lines of their own, white space collapsed, scripts and styles left out.
func HTMLText(n *html.Node) string { return visibleText(n) }

// TooLargeReason says that what (e.g. "page") of size bytes is over the
// limit and how to raise it; size < 0 when it is not known.
func TooLargeReason(what string, size, limit int64) string {
	if size < 0 {
		return what + " is over the limit of " + formatBytes(limit) + "; set MAX_FILE_BYTES to a larger number of bytes to index it"
	}
	return tooLargeReason(what, size, limit)
}

// HTMLAttr returns the value of n's attribute key (any case), or "".
func HTMLAttr(n *html.Node, key string) string { return attr(n, key) }

// HasToken reports whether the space-separated list s (a rel or robots
// value) holds tok, ignoring case.
func HasToken(s, tok string) bool { return hasToken(s, tok) }

// ValidUTF8 replaces invalid UTF-8 in s with U+FFFD.
func ValidUTF8(s string) string { return validUTF8(s) }
