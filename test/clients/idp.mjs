// A real OpenID Connect provider for the access-control tests: panva's
// oidc-provider on 127.0.0.1, issuing RS256 JWT access tokens with groups and
// roles claims to a few registered clients through the client_credentials
// grant. Usage: node idp.mjs [port]  (no port: an ephemeral one).
// When it listens it prints one JSON line: {"issuer":"http://127.0.0.1:PORT"}.
// Tokens: POST {issuer}/token with client_id/client_secret (basic auth),
// grant_type=client_credentials and resource=<the connector's URL>; the
// token's aud is that resource, and its sub (as client_id) is the client's id.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

// Each client stands for a caller of the connector; its claims are what a
// corporate IdP would put in the token for that caller. hr-app sends groups
// as one space-separated string, as some providers do.
const clients = {
  'eng-app': { groups: ['eng'], roles: ['reader'], email: 'eng@example.com' },
  'hr-app': { groups: 'hr payroll', roles: 'reader', email: 'hr@example.com' },
  'plain-app': { email: 'plain@example.com' },
};
const secret = (id) => `${id}-secret`; // client_secret of each client

const port = Number(process.argv[2] ?? 0);

// A fresh signing key per run, published at the provider's jwks_uri.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'idp-test-rs256', alg: 'RS256', use: 'sig' };

// The issuer needs the port, which an ephemeral listen only knows once
// bound: bind a plain HTTP server first, then mount the provider on it.
const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: Object.keys(clients).map((id) => ({
      client_id: id,
      client_secret: secret(id),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'docs.read',
    })),
    scopes: ['openid', 'docs.read'],
    jwks: { keys: [jwk] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Any requested resource is a resource server that takes JWT access
        // tokens whose aud is the resource itself.
        getResourceServerInfo: (ctx, resourceIndicator) => ({
          audience: resourceIndicator,
          scope: 'docs.read',
          accessTokenTTL: 10 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // The caller's claims, added to every access token of the client.
    extraTokenClaims: (ctx, token) => {
      const c = clients[token.clientId] ?? {};
      return {
        ...(c.groups !== undefined && { groups: c.groups }),
        ...(c.roles !== undefined && { roles: c.roles }),
        ...(c.email !== undefined && { email: c.email, email_verified: true }),
      };
    },
  });
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

// The test ends it with SIGTERM: exit at once, keep-alive connections and all.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
