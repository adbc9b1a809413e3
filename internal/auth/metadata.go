package auth

import (
	"net/http"
	"strings"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// MetadataPath is where the protected resource metadata (RFC 9728) of the
// server as a whole is served. Each MCP endpoint has its own, at the path
// RFC 9728 §3.1 derives from its URL: MetadataPath+"/mcp" for
// PUBLIC_BASE_URL/mcp, MetadataPath+"/sse/" for PUBLIC_BASE_URL/sse/, and so
// on, so that the resource a client finds is the very URL it was given.
const MetadataPath = "/.well-known/oauth-protected-resource"

// resourcePaths are the paths of the MCP endpoints, each a resource.
var resourcePaths = []string{"/mcp", "/mcp/", "/sse", "/sse/"}

// resourcePath returns the resource path of a request: its path for an MCP
// endpoint, else "" (the server as a whole, e.g. for the document view).
func resourcePath(path string) string {
	for _, p := range resourcePaths {
		if path == p {
			return p
		}
	}
	return ""
}

// MetadataURL returns the URL of the protected resource metadata for a
// request path, as named in 401 challenges (oauth mode only).
func (a *Authenticator) MetadataURL(path string) string {
	return strings.TrimSuffix(a.opts.PublicBaseURL, "/") + MetadataPath + resourcePath(path)
}

// Register adds the protected resource metadata endpoints to mux (oauth
// mode; in apikey mode there is nothing to discover). They stay open: the
// metadata is public.
func (a *Authenticator) Register(mux *http.ServeMux) {
	if a.opts.Mode != ModeOAuth {
		return
	}
	base := strings.TrimSuffix(a.opts.PublicBaseURL, "/")
	for _, p := range append([]string{""}, resourcePaths...) {
		meta := &oauthex.ProtectedResourceMetadata{
			Resource:               base + p,
			AuthorizationServers:   []string{a.opts.Issuer},
			ScopesSupported:        a.opts.RequiredScopes,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "connector",
		}
		path := MetadataPath + p
		if strings.HasSuffix(path, "/") {
			path += "{$}" // exactly this path, not the subtree
		}
		mux.Handle(path, mcpauth.ProtectedResourceMetadataHandler(meta))
	}
}
