package docurl

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// MinLinkKeyLen is the shortest key accepted for signing links, in bytes.
const MinLinkKeyLen = 32

// Why a document-view link does not open; the document view answers each
// with the same short page, so that none tells whether the document exists.
var (
	ErrLinkUnsigned = errors.New("the link carries no signature")
	ErrLinkInvalid  = errors.New("the link's signature does not match")
	ErrLinkExpired  = errors.New("the link has expired")
)

// signer signs document-view links: an HMAC-SHA256 over the document id and
// the expiry, with a server key.
type signer struct {
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// Signed returns a copy of l whose document-view links are signed with key
// and expire after lifetime, so that a person who opens a citation in a
// browser, with no token, can read that one document and nothing else
// until then. now is the clock (nil means time.Now).
func (l Linker) Signed(key []byte, lifetime time.Duration, now func() time.Time) (Linker, error) {
	switch {
	case len(key) < MinLinkKeyLen:
		return Linker{}, errors.New("the link signing key is too short: use at least 32 random bytes (e.g. openssl rand -hex 32)")
	case lifetime <= 0:
		return Linker{}, errors.New("the link lifetime must be positive")
	}
	if now == nil {
		now = time.Now
	}
	l.sign = &signer{key: key, lifetime: lifetime, now: now}
	return l, nil
}

// Signing reports whether l signs its document-view links.
func (l Linker) Signing() bool { return l.sign != nil }

// query returns the signature parameters for a link to id: the expiry, in
// Unix seconds rounded up to the minute (so that the links one answer hands
// out for a document are alike), and the signature.
func (s *signer) query(id string) string {
	exp := s.now().Add(s.lifetime).Truncate(time.Minute).Add(time.Minute).Unix()
	return "exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.mac(id, exp)
}

func (s *signer) mac(id string, exp int64) string {
	h := hmac.New(sha256.New, s.key)
	// Length-prefixed id: no id and expiry can be read as another pair.
	h.Write([]byte("view:" + strconv.Itoa(len(id)) + ":" + id + ":" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// Verify returns the id of the document a signed view link opens, or why
// it opens none. Without signing, any view link opens its document.
func (l Linker) Verify(u *url.URL) (string, error) {
	id, ok := ViewID(u)
	if !ok {
		return "", ErrLinkInvalid
	}
	if l.sign == nil {
		return id, nil
	}
	q := u.Query()
	sig, expText := q.Get("sig"), q.Get("exp")
	if sig == "" && expText == "" {
		return "", ErrLinkUnsigned
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(l.sign.mac(id, exp))) {
		return "", ErrLinkInvalid
	}
	if !l.sign.now().Before(time.Unix(exp, 0)) {
		return "", ErrLinkExpired
	}
	return id, nil
}
