package httpserver

import (
	"net/http"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/connectorhq/connector/internal/access"
)

// authenticate guards h with Options.Auth: a request without valid
// credentials gets 401 (or 403 for a missing scope) with a WWW-Authenticate
// challenge and never reaches h. Without Auth (AUTH_MODE=none), h is open.
//
// The document view is guarded too: it serves the documents' text, which
// must stay with the callers allowed to search them. A person who opens a
// citation link in a browser sends no token and gets 401, so with
// authentication on, the server hands out no links to it (see serve.go):
// citations then come only from the documents' own public URLs.
//
// Either way the request's context names its caller (access.FromContext):
// the one the Authenticator verified, or access.Everyone() without
// authentication, when every document is public.
func (s *Server) authenticate(h http.Handler) http.Handler {
	if s.opts.Auth == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(access.NewContext(r.Context(), access.Everyone())))
		})
	}
	return s.opts.Auth.Wrap(h)
}

// callerID names the authenticated caller of a request ("" without
// authentication), to bind SSE sessions to the caller who opened them.
func callerID(r *http.Request) string {
	if ti := mcpauth.TokenInfoFromContext(r.Context()); ti != nil {
		return ti.UserID
	}
	return ""
}
