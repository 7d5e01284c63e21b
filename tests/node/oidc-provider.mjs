// A real OpenID Connect provider (npm's oidc-provider) for Darkroom's OAuth tests, set up the way
// Authelia usually is for Immich: authorization code flow only, PKCE (S256) required, RS256 ID
// tokens, scopes `openid email profile groups`, back-channel logout.
//
//   node oidc-provider.mjs [--port N] [--clients JSON] [--userinfo-only] [--signed-userinfo]
//                          [--tls-dir DIR]
//
// --port           port on 127.0.0.1 (default 0 = any free port)
// --clients        JSON array of clients (default: $OIDC_CLIENTS), each
//                  { client_id, client_secret, redirect_uris, backchannel_logout_uri?,
//                    token_endpoint_auth_method?, application_type? }. The secret is taken
//                  by client_secret_post and client_secret_basic alike. A custom-scheme
//                  redirect URI (app.immich:///oauth-callback) makes the client native, and
//                  then its http redirect URIs must be loopback ones (any port matches).
// --userinfo-only  scope claims (email, name, groups, immich_*) only from the userinfo
//                  endpoint, not in the ID token (as oidc-provider does by default)
// --signed-userinfo the userinfo endpoint answers a JWT signed with RS256 (application/jwt)
// --tls-dir        serve https with DIR/cert.pem and DIR/key.pem (the issuer is then https)
//
// Prints exactly one line on stdout, `ready <issuer>`, once listening; everything else goes
// to stderr (refused authorization and token requests too with OIDC_PROVIDER_DEBUG=1). Exits
// when stdin closes or on SIGTERM.
//
// Logging in: the built-in development pages (devInteractions). GET the authorization URL,
// follow redirects to /interaction/<uid>; POST there `prompt=login&login=<name>&password=<any>`,
// then (next page) `prompt=consent`. Any password is accepted; unknown names are refused.
//
// Test endpoints beside the provider's own:
//   GET  /test/accounts/<login>           the account's claims as JSON (404 if unknown)
//   POST /test/backchannel-logout/<login> sends a logout token to every client with a
//        backchannel_logout_uri that <login> signed in to; answers JSON
//        [{ client_id, sid, ok, error? }]
//   GET  /test/picture.png                a 1×1 PNG, quinn's `picture`
//   POST /test/tamper                     JSON { claims?, break_signature? }: the next token
//        response's ID token gets these claims (null removes one), re-signed with the
//        provider's key (or with a broken signature), as a faulty or hostile provider would

import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// oidc-provider prints notices with console.info; stdout is reserved for the ready line. Its
// reminders that this is a development set-up (in-memory storage, built-in login pages, default
// TTLs) are expected here and would only clutter the test output.
const toStderr = console.error;
const quiet = (...args) => {
  if (/^oidc-provider (NOTICE: default|WARNING: (a quick start|already parsed))/u.test(String(args[0]))) return;
  toStderr(...args);
};
console.log = quiet;
console.info = quiet;
console.warn = quiet;

const { default: Provider } = await import('oidc-provider');

const { values: options } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    clients: { type: 'string', default: process.env.OIDC_CLIENTS ?? '[]' },
    'userinfo-only': { type: 'boolean', default: false },
    'signed-userinfo': { type: 'boolean', default: false },
    'tls-dir': { type: 'string' },
  },
});

// The fixed test accounts; the login name is also the subject (`sub`).
const ACCOUNTS = {
  alice: {
    email: 'alice@example.com', email_verified: true, name: 'Alice Liddell',
    preferred_username: 'alice', groups: ['users'],
  },
  bob: {
    email: 'bob@example.com', email_verified: true, name: 'Bob Admin',
    preferred_username: 'bob', groups: ['users', 'admins'], immich_role: 'admin',
  },
  // Claims the e-mail of the suite's admin without the provider having verified it.
  mallory: {
    email: 'admin@immich.cloud', email_verified: false, name: 'Mallory',
    preferred_username: 'mallory', groups: ['users'],
  },
  // Carries Immich's custom claims: quota in GiB, storage label and role.
  quinn: {
    email: 'quinn@example.com', email_verified: true, name: 'Quinn Quota',
    preferred_username: 'quinn', groups: ['users'],
    immich_quota: 1, immich_label: 'quinn-label', immich_role: 'user',
  },
  // A name beyond ASCII, and an e-mail in mixed case.
  zoe: {
    email: 'Zoe@Example.com', email_verified: true, name: 'Zoë Ångström',
    preferred_username: 'zoë', groups: ['users'],
  },
};

function parseClients(json) {
  const list = JSON.parse(json);
  if (!Array.isArray(list)) throw new Error('--clients must be a JSON array');
  return list.map((client) => {
    const uris = client.redirect_uris ?? [];
    // oidc-provider allows custom schemes (app.immich:///…) only for native clients, whose
    // http redirect URIs must then be loopback ones (any port matches those).
    const custom = uris.some((uri) => !/^https?:/u.test(uri));
    return {
      application_type: custom ? 'native' : 'web',
      token_endpoint_auth_method: 'client_secret_post',
      ...(options['signed-userinfo'] ? { userinfo_signed_response_alg: 'RS256' } : {}),
      grant_types: ['authorization_code'],
      response_types: ['code'],
      ...client,
      ...(client.backchannel_logout_uri
        ? { backchannel_logout_session_required: client.backchannel_logout_session_required ?? true }
        : {}),
    };
  });
}

// account → client_id → sid of the latest authorization, for back-channel logout.
const sessions = new Map();

const tlsDir = options['tls-dir'];
const server = tlsDir
  ? createTlsServer({ cert: readFileSync(join(tlsDir, 'cert.pem')), key: readFileSync(join(tlsDir, 'key.pem')) })
  : createServer();
await new Promise((resolve) => server.listen(Number(options.port), '127.0.0.1', resolve));
const issuer = `${tlsDir ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
ACCOUNTS.quinn.picture = `${issuer}/test/picture.png`;
const PICTURE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: parseClients(options.clients),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  responseTypes: ['code'],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username', 'picture', 'immich_quota', 'immich_label', 'immich_role'],
    groups: ['groups'],
  },
  conformIdTokenClaims: options['userinfo-only'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  features: {
    devInteractions: { enabled: true },
    jwtUserinfo: { enabled: options['signed-userinfo'] },
    backchannelLogout: { enabled: true },
    // Not part of the Authelia-like set-up; off to keep the surface small.
    dPoP: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
  },
  // Errors as one line of text, which the tests can show.
  async renderError(ctx, out) {
    ctx.type = 'text';
    ctx.body = `${out.error}: ${out.error_description ?? ''}`;
  },
  // oidc-provider refuses outgoing requests to special-use addresses (SSRF protection) by
  // handing fetch a guarded dispatcher; the test clients' back-channel URIs are all loopback.
  fetch: (url, init) => globalThis.fetch(url, { ...init, dispatcher: undefined }),
  async findAccount(_ctx, id) {
    if (!Object.hasOwn(ACCOUNTS, id)) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...ACCOUNTS[id] }) };
  },
});

provider.on('authorization.success', (ctx) => {
  const { session, client } = ctx.oidc;
  if (!session?.accountId || !client) return;
  if (!sessions.has(session.accountId)) sessions.set(session.accountId, new Map());
  sessions.get(session.accountId).set(client.clientId, session.sidFor(client.clientId));
});
// Refused requests are often what a test expects; they are logged only with OIDC_PROVIDER_DEBUG.
const logged = ['server_error', 'backchannel.error'];
if (process.env.OIDC_PROVIDER_DEBUG) logged.push('authorization.error', 'grant.error');
for (const event of logged) {
  provider.on(event, (_ctx, error) => {
    const detail = error?.error_description ? ` (${error.error_description})` : '';
    console.error(`oidc-provider ${event}: ${error?.message ?? error}${detail}`);
  });
}

async function backchannelLogout(login) {
  const results = [];
  for (const [clientId, sid] of sessions.get(login) ?? []) {
    const client = await provider.Client.find(clientId);
    if (!client?.backchannelLogoutUri) continue;
    try {
      await client.backchannelLogout(login, sid);
      results.push({ client_id: clientId, sid, ok: true });
    } catch (error) {
      const cause = error?.cause ? ` (${error.cause.message ?? error.cause})` : '';
      results.push({ client_id: clientId, sid, ok: false, error: `${error?.message ?? error}${cause}` });
    }
  }
  sessions.delete(login);
  return results;
}

// What POST /test/tamper asked to do to the next ID token.
let tamper = null;

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function tamperedIdToken(idToken, { claims = {}, break_signature: breakSignature = false }) {
  const [header, payload] = idToken.split('.');
  const changed = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()) };
  for (const [key, value] of Object.entries(claims)) {
    if (value === null) delete changed[key];
    else changed[key] = value;
  }
  const input = `${header}.${b64url(changed)}`;
  const signature = sign('sha256', Buffer.from(input), privateKey);
  if (breakSignature) signature[0] ^= 0xff;
  return `${input}.${signature.toString('base64url')}`;
}

// Rewrites the ID token in the token endpoint's JSON answer before it leaves.
function tamperTokenResponse(res, change) {
  const end = res.end.bind(res);
  res.end = (chunk, ...rest) => {
    try {
      const body = JSON.parse(Buffer.from(chunk).toString());
      if (body.id_token) body.id_token = tamperedIdToken(body.id_token, change);
      const text = JSON.stringify(body);
      if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(text));
      return end(text, ...rest);
    } catch {
      return end(chunk, ...rest);
    }
  };
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  let match;
  if (req.method === 'GET' && (match = path.match(/^\/test\/accounts\/([^/]+)$/u))) {
    const login = decodeURIComponent(match[1]);
    return Object.hasOwn(ACCOUNTS, login)
      ? json(res, 200, { sub: login, ...ACCOUNTS[login] })
      : json(res, 404, { error: 'no such account' });
  }
  if (req.method === 'POST' && (match = path.match(/^\/test\/backchannel-logout\/([^/]+)$/u))) {
    return json(res, 200, await backchannelLogout(decodeURIComponent(match[1])));
  }
  if (req.method === 'GET' && path === '/test/picture.png') {
    res.writeHead(200, { 'content-type': 'image/png' });
    return res.end(PICTURE);
  }
  if (req.method === 'POST' && path === '/test/tamper') {
    tamper = JSON.parse(Buffer.concat(await Array.fromAsync(req)).toString() || '{}');
    return json(res, 200, { ok: true });
  }
  if (req.method === 'POST' && path === '/token' && tamper) {
    tamperTokenResponse(res, tamper);
    tamper = null;
  }
  if (req.method === 'POST' && path.startsWith('/interaction/')) {
    // The built-in login page takes any name; refuse unknown ones as a real login page would.
    const body = Buffer.concat(await Array.fromAsync(req)).toString();
    const form = new URLSearchParams(body);
    if (form.get('prompt') === 'login' && !Object.hasOwn(ACCOUNTS, form.get('login') ?? '')) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('unknown test account\n');
    }
    req.body = body;
  }
  return callback(req, res);
});

const stop = () => {
  server.closeAllConnections();
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

process.stdout.write(`ready ${issuer}\n`);
