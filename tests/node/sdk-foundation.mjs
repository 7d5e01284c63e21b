// Drives sign-up, login, sessions and API keys through the official @immich/sdk.
// Usage: node sdk-foundation.mjs <server url without /api>
import assert from 'node:assert/strict';
import * as sdk from '@immich/sdk';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node sdk-foundation.mjs <server url>');
  process.exit(2);
}
const baseUrl = `${url}/api`;
sdk.setBaseUrl(baseUrl); // no credentials until an API key exists

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const apiKey = (key) => ({ headers: { 'x-api-key': key } });

/** Runs `call`, which must fail with `status`; returns the error body. */
async function rejects(status, call) {
  try {
    await call();
  } catch (error) {
    assert.ok(sdk.isHttpError(error), `expected an HTTP error, got ${error}`);
    assert.equal(error.status, status, JSON.stringify(error.data));
    return error.data;
  }
  assert.fail(`expected HTTP ${status}`);
}

const step = (name) => console.log(`sdk: ${name}`);

step('server is up and speaks 3.2.2');
assert.deepEqual(await sdk.pingServer(), { res: 'pong' });
const version = await sdk.getServerVersion();
assert.deepEqual([version.major, version.minor, version.patch], [3, 2, 2]);
assert.equal((await sdk.getServerConfig()).isInitialized, false);

step('admin sign-up, once');
const admin = await sdk.signUpAdmin({
  signUpDto: { email: 'admin@immich.cloud', password: 'password', name: 'Immich Admin' },
});
assert.equal(admin.isAdmin, true);
assert.equal(admin.email, 'admin@immich.cloud');
const again = await rejects(400, () =>
  sdk.signUpAdmin({ signUpDto: { email: 'other@immich.cloud', password: 'password', name: 'Other' } }),
);
assert.equal(again.message, 'The server already has an admin');
assert.equal((await sdk.getServerConfig()).isInitialized, true);

step('login and token validation');
const wrong = await rejects(401, () =>
  sdk.login({ loginCredentialDto: { email: 'admin@immich.cloud', password: 'wrong' } }),
);
assert.equal(wrong.message, 'Incorrect email or password');
const session = await sdk.login({ loginCredentialDto: { email: 'Admin@Immich.Cloud', password: 'password' } });
assert.equal(session.userId, admin.id);
assert.equal(session.isAdmin, true);
assert.ok(session.accessToken.length > 20);
assert.deepEqual(await sdk.validateAccessToken(bearer(session.accessToken)), { authStatus: true });
const me = await sdk.getMyUser(bearer(session.accessToken));
assert.equal(me.id, admin.id);
const status = await sdk.getAuthStatus(bearer(session.accessToken));
assert.equal(status.pinCode, false);

step('sessions');
const sessions = await sdk.getSessions(bearer(session.accessToken));
assert.equal(sessions.length, 1);
assert.equal(sessions[0].current, true);

step('API keys: create, use, list, update, rotate, delete');
const created = await sdk.createApiKey({ apiKeyCreateDto: { name: 'cli', permissions: ['all'] } }, bearer(session.accessToken));
assert.equal(created.apiKey.name, 'cli');
assert.deepEqual(created.apiKey.permissions, ['all']);
sdk.setApiKey(created.secret);
assert.equal((await sdk.getMyApiKey()).id, created.apiKey.id);
assert.equal((await sdk.getMyUser()).id, admin.id);

const limited = await sdk.createApiKey({ apiKeyCreateDto: { name: 'reader', permissions: ['user.read', 'apiKey.read'] } });
assert.equal((await sdk.getMyUser(apiKey(limited.secret))).id, admin.id);
await rejects(403, () => sdk.getSessions(apiKey(limited.secret)));
const escalation = await rejects(403, () =>
  sdk.createApiKey({ apiKeyCreateDto: { name: 'more', permissions: ['all'] } }, apiKey(limited.secret)),
);
assert.equal(escalation.message, 'Missing required permission: apiKey.create');
assert.deepEqual(
  (await sdk.getApiKeys()).map((key) => key.name).sort(),
  ['cli', 'reader'],
);
const renamed = await sdk.updateApiKey({ id: limited.apiKey.id, apiKeyUpdateDto: { name: 'renamed' } });
assert.equal(renamed.name, 'renamed');
const rotated = await sdk.rotateApiKey({ id: limited.apiKey.id });
assert.notEqual(rotated.secret, limited.secret);
await rejects(401, () => sdk.getMyUser(apiKey(limited.secret)));
assert.equal((await sdk.getMyUser(apiKey(rotated.secret))).id, admin.id);
await sdk.deleteApiKey({ id: limited.apiKey.id });
await rejects(401, () => sdk.getMyUser(apiKey(rotated.secret)));

step('admin creates a user who logs in');
const user = await sdk.createUserAdmin({
  userAdminCreateDto: { email: 'user@immich.cloud', password: 'secret', name: 'User', shouldChangePassword: false },
});
const userSession = await sdk.login({ loginCredentialDto: { email: 'user@immich.cloud', password: 'secret' } });
assert.equal(userSession.userId, user.id);
assert.equal(userSession.isAdmin, false);
await rejects(403, () => sdk.searchUsersAdmin({}, bearer(userSession.accessToken)));
const stats = await sdk.getServerStatistics();
assert.deepEqual(
  stats.usageByUser.map((entry) => entry.userId),
  [admin.id, user.id],
);

step('logout ends the session');
assert.deepEqual(await sdk.logout(bearer(session.accessToken)), {
  successful: true,
  redirectUri: '/auth/login?autoLaunch=0',
});
await rejects(401, () => sdk.validateAccessToken(bearer(session.accessToken)));

console.log('sdk: all checks passed');
