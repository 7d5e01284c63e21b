// The official @immich/sdk through Darkroom's OAuth sign-in, as a client that keeps its own
// PKCE verifier does it (the mobile app's way): startOAuth with its state and challenge, the
// user signing in at the provider, finishOAuth with state and verifier; then link and unlink.
// Node 22's fetch sends Accept-Encoding and the names here are not ASCII.
// Usage: node sdk-oauth.mjs <server url without /api> <provider login>
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as sdk from '@immich/sdk';

const [url, login] = process.argv.slice(2);
if (!url || !login) {
  console.error('usage: node sdk-oauth.mjs <server url> <provider login>');
  process.exit(2);
}
sdk.setBaseUrl(`${url}/api`);
const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const step = (name) => console.log(`sdk-oauth: ${name}`);

/** Signs `login` in on the provider's pages, as a browser; returns the redirect leaving it. */
async function signInAtProvider(authorizeUrl) {
  const cookies = new Map();
  const provider = new URL(authorizeUrl).origin;
  let next = authorizeUrl;
  let form = null;
  for (let i = 0; i < 20; i += 1) {
    const response = await fetch(next, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    form = null;
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location'), next);
      if (location.origin !== provider) return location.href;
      next = location.href;
      continue;
    }
    const page = await response.text();
    assert.ok(response.ok, `${response.status} from ${next}: ${page}`);
    if (page.includes('name="prompt" value="login"')) form = { prompt: 'login', login, password: 'any' };
    else if (page.includes('name="prompt" value="consent"')) form = { prompt: 'consent' };
    else throw new Error(`unexpected page at ${next}: ${page}`);
  }
  throw new Error('too many steps at the provider');
}

/** One sign-in with the client's own state and PKCE; returns the callback DTO. */
async function providerAnswer(redirectUri) {
  const state = randomBytes(16).toString('base64url');
  const codeVerifier = randomBytes(48).toString('base64url');
  const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
  const { url: authorizeUrl } = await sdk.startOAuth({ oAuthConfigDto: { redirectUri, state, codeChallenge } });
  const back = await signInAtProvider(authorizeUrl);
  assert.ok(back.startsWith(redirectUri), back);
  assert.equal(new URL(back).searchParams.get('state'), state);
  return { url: back, state, codeVerifier };
}

const features = await sdk.getServerFeatures();
assert.equal(features.oauth, true);
const config = await sdk.getServerConfig();
step(`login screen shows "${config.oauthButtonText}"`);

const signedIn = await sdk.finishOAuth({ oAuthCallbackDto: await providerAnswer('app.immich:///oauth-callback') });
assert.ok(signedIn.accessToken);
step(`signed in as ${signedIn.name} <${signedIn.userEmail}>`);
const auth = bearer(signedIn.accessToken);
const me = await sdk.getMyUser(auth);
assert.equal(me.oauthId, login);

const unlinked = await sdk.unlinkOAuthAccount(auth);
assert.equal(unlinked.oauthId, '');
const linked = await sdk.linkOAuthAccount(
  { oAuthCallbackDto: await providerAnswer(`${url}/user-settings`) },
  auth,
);
assert.equal(linked.oauthId, login);
step('unlinked and linked again');

const out = await sdk.logout(auth);
assert.equal(out.successful, true);
console.log(JSON.stringify({ name: signedIn.name, email: signedIn.userEmail }));
