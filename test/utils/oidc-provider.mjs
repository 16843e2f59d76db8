// A real OpenID provider (oidc-provider, ESM) for the OIDC suite, run as a child process so jest's
// CommonJS runtime never loads it. Prints one JSON line { issuer } once it listens on loopback.
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma-separated): the gateways' client registration
//   OIDC_CLIENT_JWKS (optional): public keys of a second client, `${OIDC_CLIENT_ID}-pkjwt`, that uses private_key_jwt
// Test hook, as a misbehaving provider would: GET /__test/next-id-token?tamper=foreign-issuer|expired|acr-low|acr-substantial|forged-signature|unknown-key|rotate-key
// makes the next token response carry an ID token re-signed with the provider's own key but with
// that claim changed, so only the gateway's claim checks can refuse it.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, importJWK } from 'jose';

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID,
      client_secret: process.env.OIDC_CLIENT_SECRET,
      redirect_uris: process.env.OIDC_REDIRECT_URIS.split(','),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    ...(process.env.OIDC_CLIENT_JWKS
      ? [
          {
            client_id: `${process.env.OIDC_CLIENT_ID}-pkjwt`,
            redirect_uris: process.env.OIDC_REDIRECT_URIS.split(','),
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: JSON.parse(process.env.OIDC_CLIENT_JWKS),
          },
        ]
      : []),
  ],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['oidc-test-cookie-key-0123456789abcdef'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // The login name is the subject: a demo BSN, or any pseudonym.
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
});

let tamper = null;
// After rotate-key the provider signs with a new key and publishes both, as a real key rollover does.
let rotated = null;
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/next-id-token') {
    tamper = ctx.query.tamper ?? null;
    ctx.body = { tamper };
    return;
  }
  await next();
  if (ctx.path === '/jwks' && rotated) ctx.body = { keys: [...ctx.body.keys, rotated.publicJwk] };
  if (ctx.path === '/token' && tamper === 'rotate-key' && ctx.body && typeof ctx.body.id_token === 'string') {
    const { privateKey: key, publicKey } = await generateKeyPair('RS256');
    rotated = { key, kid: randomUUID(), publicJwk: null };
    rotated.publicJwk = { ...(await exportJWK(publicKey)), kid: rotated.kid, alg: 'RS256', use: 'sig' };
    const claims = decodeJwt(ctx.body.id_token);
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: rotated.kid, typ: 'JWT' }).sign(key) };
    tamper = null;
  }
  if (ctx.path === '/token' && tamper && ctx.body && typeof ctx.body.id_token === 'string') {
    const claims = decodeJwt(ctx.body.id_token);
    const now = Math.floor(Date.now() / 1000);
    if (tamper === 'foreign-issuer') claims.iss = 'http://127.0.0.1:1/another-issuer';
    if (tamper === 'expired') Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    if (tamper.startsWith('acr-')) claims.acr = `http://eidas.europa.eu/LoA/${tamper.slice(4)}`;
    // A key the provider never published: under its own kid (forged) or an unknown one (not in the JWKS).
    const foreign = tamper === 'forged-signature' || tamper === 'unknown-key' ? (await generateKeyPair('RS256')).privateKey : null;
    const kid = tamper === 'unknown-key' ? 'a-key-nobody-published' : signingJwk.kid;
    ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(foreign ?? signingKey) };
    tamper = null;
  }
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
