package main

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/connectorhq/connector/internal/auth"
)

// authenticator builds the credential check AUTH_MODE asks for, or nil for
// AUTH_MODE=none. onFailure, when set, hears the reason of every refusal.
func (c command) authenticator(onFailure func(reason string)) (*auth.Authenticator, error) {
	cfg := c.cfg
	if cfg.AuthMode == auth.ModeNone || cfg.AuthMode == "" {
		return nil, nil
	}
	return auth.New(auth.Options{
		Mode:           cfg.AuthMode,
		APIKeys:        cfg.allAPIKeys(),
		PublicBaseURL:  cfg.PublicBaseURL,
		Issuer:         cfg.OAuthIssuer,
		Audiences:      cfg.OAuthAudiences,
		RequiredScopes: cfg.OAuthScopes,
		ClockSkew:      cfg.OAuthClockSkew,
		JWKSURL:        cfg.OAuthJWKSURL,
		GroupsClaim:    cfg.OAuthGroupsClaim,
		RolesClaim:     cfg.OAuthRolesClaim,
		OnFailure:      onFailure,
		Logger:         c.logger,
	})
}

// logAuth says at start-up who may call the server, and warns when anyone
// on the network may. In oauth mode it loads the identity provider's signing
// keys, so that a wrong OAUTH_ISSUER shows at once; the server starts anyway
// (/readyz reports it) so that a passing outage of the provider does not
// stop it.
func logAuth(ctx context.Context, logger *slog.Logger, a *auth.Authenticator, addr net.Addr, cfg config) {
	switch {
	case a == nil && !isLoopbackListener(addr):
		logger.Warn("AUTH_MODE=none on a non-loopback address: anyone who reaches "+addr.String()+" can search and read every document; "+
			"set AUTH_MODE=apikey (with API_KEYS) or AUTH_MODE=oauth (with OAUTH_ISSUER), or listen on 127.0.0.1 behind a proxy that authenticates",
			"addr", addr.String())
	case a == nil:
	case a.Mode() == auth.ModeAPIKey:
		logger.Info("authentication: API keys required on the MCP endpoints and the document view", "auth_mode", "apikey", "keys", len(cfg.allAPIKeys()))
	default:
		logger.Info("authentication: OAuth access tokens required on the MCP endpoints and the document view",
			"auth_mode", "oauth", "issuer", cfg.OAuthIssuer, "resource_metadata", a.MetadataURL("/mcp"), "required_scopes", cfg.OAuthScopes,
			"groups_claim", cfg.OAuthGroupsClaim, "roles_claim", cfg.OAuthRolesClaim)
		check, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := a.Ready(check)
		cancel()
		if err != nil {
			logger.Error("the identity provider's signing keys cannot be loaded; serving anyway, /readyz reports it and tokens are refused until they load: check OAUTH_ISSUER (or OAUTH_JWKS_URL) and that this host reaches it", "err", err)
		}
	}
	if a != nil {
		logger.Info("documents without a URL of their own are cited with url \"\": the document view needs credentials that a browser opening a citation does not send; give documents their public URL (the url attribute) to have them cited")
	}
}
