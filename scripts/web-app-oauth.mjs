// The official Immich web app, in Chromium, signing in to Darkroom through the test OpenID
// provider: a new user by the "Login with OAuth" button, and a password user linking the
// provider account from the user settings. Run by scripts/web-app-oauth.
// Usage: node web-app-oauth.mjs <server url> <provider issuer>
import assert from 'node:assert/strict';
// playwright-core is installed outside the repository's packages (see scripts/web-app-oauth).
const { chromium } = await import(process.env.PLAYWRIGHT_CORE ?? 'playwright-core');

const [base, issuer] = process.argv.slice(2);
const step = (text) => console.log(`web-app-oauth: ${text}`);

async function api(method, path, body, token) {
  const response = await fetch(`${base}/api${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// The admin, OAuth enabled against the provider, and a password user the provider knows as bob.
await api('POST', '/auth/admin-sign-up', { email: 'admin@example.com', password: 'password', name: 'Admin' });
const { accessToken: admin } = await api('POST', '/auth/login', { email: 'admin@example.com', password: 'password' });
const config = await api('GET', '/system-config', undefined, admin);
Object.assign(config.oauth, {
  enabled: true,
  issuerUrl: issuer,
  clientId: 'darkroom',
  clientSecret: 'darkroom-secret',
  scope: 'openid email profile groups',
  allowInsecureRequests: true,
  buttonText: 'Sign in with Authelia ✓',
});
await api('PUT', '/system-config', config, admin);
await api('POST', '/admin/users', { email: 'bob@example.com', password: 'password', name: 'Bob', shouldChangePassword: false }, admin);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });

/** Signs `login` in on the provider's development pages and waits to be back at Darkroom. */
async function atProvider(page, login) {
  await page.waitForURL((u) => u.toString().startsWith(`${issuer}/interaction/`), { timeout: 20000 });
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any');
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.toString().includes('/interaction/') || u.toString().startsWith(base), { timeout: 20000 });
  if (page.url().includes('/interaction/')) await page.click('button[type=submit]'); // consent
  await page.waitForURL((u) => u.toString().startsWith(base), { timeout: 20000 });
}

const me = (page) => page.evaluate(async () => (await fetch('/api/users/me')).json());

// A new user: the login page's button, the provider, back signed in (onboarding).
{
  const page = await browser.newPage();
  await page.goto(`${base}/auth/login`);
  const button = page.getByRole('button', { name: /Authelia ✓/ });
  await button.click({ timeout: 20000 });
  await atProvider(page, 'zoe');
  await page.waitForURL((u) => !u.pathname.startsWith('/auth/login'), { timeout: 20000 });
  const zoe = await me(page);
  assert.deepEqual([zoe.name, zoe.email, zoe.oauthId], ['Zoë Ångström', 'zoe@example.com', 'zoe']);
  step(`signed in through the provider as ${zoe.name}, landed on ${new URL(page.url()).pathname}`);
  const out = await page.evaluate(async () => (await fetch('/api/auth/logout', { method: 'POST' })).json());
  assert.ok(out.redirectUri.startsWith(issuer), out.redirectUri);
  step(`signing out leads to ${out.redirectUri}`);
  await page.close();
}

// A password user links the provider account from the user settings.
{
  const page = await browser.newPage();
  await page.goto(`${base}/auth/login?autoLaunch=0`);
  await page.fill('#email', 'bob@example.com');
  await page.fill('#password', 'password');
  await page.getByRole('button', { name: /^Login$/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/auth/login'), { timeout: 20000 });
  await page.goto(`${base}/user-settings?isOpen=oauth`);
  await page.getByRole('button', { name: /Link to OAuth/i }).click({ timeout: 20000 });
  await atProvider(page, 'bob');
  // The web app links with the answer, then shows the settings again.
  let bob = await me(page);
  for (let i = 0; i < 50 && !bob.oauthId; i += 1) {
    await page.waitForTimeout(200);
    bob = await me(page);
  }
  assert.equal(bob.oauthId, 'bob');
  await page.goto(`${base}/user-settings?isOpen=oauth`);
  await page.getByRole('button', { name: /Unlink OAuth/i }).waitFor({ timeout: 20000 });
  step(`${bob.email} linked the provider account from the user settings`);
  // The server's version as the sidebar shows it (from the socket's greeting).
  const texts = (await page.getByRole('button').allTextContents()).map((t) => t.trim());
  const version = texts.find((t) => /^v\d+\.\d+\.\d+/.test(t));
  assert.ok(version && !version.includes('undefined'), `sidebar version: ${version}`);
  step(`the sidebar shows the server as ${version}`);
  await page.close();
}

await browser.close();
step('PASSED');
