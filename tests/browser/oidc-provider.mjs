// A real OpenID Connect provider for tests (oauth2-mock-server: discovery, authorize,
// token with PKCE, userinfo, JWKS) on 127.0.0.1 and a free port. It prints
// "issuer <url>" when ready. Each JSON line on stdin sets the claims the next sign-ins
// get from userinfo (e.g. {"sub":"s1","email":"ada@example.org","email_verified":true}),
// and `amr`, when given, goes into the tokens;
// it answers "ok" for each.
import { OAuth2Server } from 'oauth2-mock-server';
import { createInterface } from 'node:readline';

const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.start(0, '127.0.0.1');

let claims = { sub: 'nobody' };
server.service.on('beforeUserinfo', (response) => {
  response.body = { ...claims };
  response.statusCode = 200;
});
server.service.on('beforeTokenSigning', (token) => {
  token.payload.sub = claims.sub;
  // What the provider says it checked (RFC 8176), when a test sets it.
  if (claims.amr) token.payload.amr = claims.amr;
});

console.log(`issuer ${server.issuer.url}`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  claims = JSON.parse(line);
  console.log('ok');
});
lines.on('close', async () => {
  await server.stop();
  process.exit(0);
});
