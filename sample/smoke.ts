/**
 * Runs the sample's header, cookie and GraphQL flows against a running instance and throws
 * on the first surprise. Used by `npm run sample -- --smoke` and by the tests.
 */
import { runWsSmoke } from './ws/ws-smoke.js';

interface Reply {
  status: number;
  body: Record<string, unknown>;
  setCookies: string[];
}

async function call(
  base: string,
  method: string,
  path: string,
  init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : { text }, setCookies: res.headers.getSetCookie() };
}

function check(step: string, reply: Reply, status: number, body?: Record<string, unknown>): void {
  const bodyOk = body === undefined || Object.entries(body).every(([k, v]) => JSON.stringify(reply.body[k]) === JSON.stringify(v));
  if (reply.status !== status || !bodyOk) {
    throw new Error(`${step}: expected ${status} ${JSON.stringify(body ?? {})}, got ${reply.status} ${JSON.stringify(reply.body)}`);
  }
}

/** Returns the steps that passed; throws on the first that does not. */
export async function runSmoke(base: string, log: (line: string) => void = () => {}): Promise<string[]> {
  const passed: string[] = [];
  const step = async (name: string, run: () => Promise<void>) => {
    await run();
    passed.push(name);
    log(`  ok  ${name}`);
  };
  const login = (username: string, password: string) => call(base, 'POST', '/auth/login', { body: { username, password } });

  // Header flow
  let access = '';
  let refresh = '';
  await step('login refuses a wrong password', async () =>
    check('wrong password', await login('alice', 'nope'), 401, { msg: 'Bad username or password' }),
  );
  await step('login returns fresh access + refresh tokens', async () => {
    const reply = await login('alice', 'wonderland');
    check('login', reply, 200);
    access = String(reply.body.access_token);
    refresh = String(reply.body.refresh_token);
  });
  await step('the public keys are published at /.well-known/jwks.json, and tokens name theirs by kid', async () => {
    const res = await fetch(`${base}/.well-known/jwks.json`);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    if (res.status !== 200 || res.headers.get('cache-control') !== 'public, max-age=300') throw new Error(`jwks: got ${res.status}`);
    const current = jwks.keys[0];
    if (current?.alg !== 'EdDSA' || current.use !== 'sig' || 'd' in current) throw new Error(`jwks: ${JSON.stringify(jwks)}`);
    const header = JSON.parse(Buffer.from(access.split('.')[0], 'base64url').toString()) as Record<string, unknown>;
    if (header.alg !== 'EdDSA' || header.kid !== current.kid)
      throw new Error(`token header ${JSON.stringify(header)} names no published key`);
  });
  await step('GET /me needs a token', async () =>
    check('me without token', await call(base, 'GET', '/me'), 401, {
      msg: 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")',
    }),
  );
  await step('GET /me returns the loaded user', async () =>
    check('me', await call(base, 'GET', '/me', { token: access }), 200, { username: 'alice', role: 'admin' }),
  );
  await step('optional route greets strangers and users', async () => {
    check('greeting anonymous', await call(base, 'GET', '/greeting'), 200, { msg: 'Hello, stranger!' });
    check('greeting alice', await call(base, 'GET', '/greeting', { token: access }), 200, { msg: 'Hello, alice!' });
  });
  await step('admin route: role claim checked', async () => {
    check('admin as alice', await call(base, 'GET', '/admin/stats', { token: access }), 200);
    const bob = await login('bob', 'can-we-fix-it');
    check('admin as bob', await call(base, 'GET', '/admin/stats', { token: String(bob.body.access_token) }), 403, { msg: 'Admins only' });
  });
  await step('refresh tokens are refused where access is required', async () =>
    check('me with refresh', await call(base, 'GET', '/me', { token: refresh }), 422, { msg: 'Only non-refresh tokens are allowed' }),
  );
  let refreshed = '';
  await step('refresh gives a non-fresh access token', async () => {
    const reply = await call(base, 'POST', '/auth/refresh', { token: refresh });
    check('refresh', reply, 200);
    refreshed = String(reply.body.access_token);
    // Rotation consumed the token: from now on its successor is the session's refresh token (a consumed one is reuse).
    refresh = String(reply.body.refresh_token);
    check('me with refreshed', await call(base, 'GET', '/me', { token: refreshed }), 200, { username: 'alice' });
  });
  await step(
    'rotation: a repeat within reuseInterval gets the same successor; replaying an older refresh token revokes the family',
    async () => {
      const rotate = async (token: string) => {
        const reply = await call(base, 'POST', '/auth/refresh', { token });
        check('rotate', reply, 200);
        return { access: String(reply.body.access_token), refresh: String(reply.body.refresh_token) };
      };
      const first = String((await login('alice', 'wonderland')).body.refresh_token);
      const second = await rotate(first);
      const third = await rotate(second.refresh);
      // A second tab sending the token just consumed: the same current refresh token, no second branch.
      const tab = await rotate(second.refresh);
      if (tab.refresh !== third.refresh) throw new Error('a repeat within reuseInterval got another refresh token');
      // The first token was consumed two rotations ago: reuse (a thief, or a client bug). The family is revoked.
      check('replay old refresh token', await call(base, 'POST', '/auth/refresh', { token: first }), 401, {
        msg: 'Token has been revoked',
      });
      check('current refresh token of the family', await call(base, 'POST', '/auth/refresh', { token: third.refresh }), 401, {
        msg: 'Token has been revoked',
      });
      check('access token of the family', await call(base, 'GET', '/me', { token: third.access }), 401, { msg: 'Token has been revoked' });
    },
  );
  await step('fresh-only route refuses a non-fresh token', async () =>
    check(
      'password with non-fresh',
      await call(base, 'POST', '/account/password', { token: refreshed, body: { newPassword: 'x'.repeat(12) } }),
      401,
      {
        msg: 'Fresh token required',
      },
    ),
  );
  await step('logout revokes the presented access and refresh tokens', async () => {
    check('logout access', await call(base, 'DELETE', '/auth/logout', { token: access }), 200, { msg: 'access token revoked' });
    check('me after logout', await call(base, 'GET', '/me', { token: access }), 401, { msg: 'Token has been revoked' });
    check('logout refresh', await call(base, 'DELETE', '/auth/logout', { token: refresh }), 200, { msg: 'refresh token revoked' });
    check('refresh after logout', await call(base, 'POST', '/auth/refresh', { token: refresh }), 401, { msg: 'Token has been revoked' });
  });
  await step('password change (fresh login) revokes every earlier token of the user', async () => {
    const bobOld = String((await login('bob', 'can-we-fix-it')).body.access_token);
    const fresh = await call(base, 'POST', '/auth/fresh-login', { body: { username: 'bob', password: 'can-we-fix-it' } });
    check('fresh login', fresh, 200);
    const changed = await call(base, 'POST', '/account/password', {
      token: String(fresh.body.access_token),
      body: { newPassword: 'yes-we-can-2' },
    });
    check('change password', changed, 200);
    check('old token after password change', await call(base, 'GET', '/me', { token: bobOld }), 401, { msg: 'Token has been revoked' });
    const again = await login('bob', 'yes-we-can-2');
    check('login with new password', again, 200);
    check('new token works', await call(base, 'GET', '/me', { token: String(again.body.access_token) }), 200, { username: 'bob' });
    // put the seed password back so the smoke can run again against the same instance
    const restore = await call(base, 'POST', '/auth/fresh-login', { body: { username: 'bob', password: 'yes-we-can-2' } });
    check(
      'restore password',
      await call(base, 'POST', '/account/password', { token: String(restore.body.access_token), body: { newPassword: 'can-we-fix-it' } }),
      200,
    );
  });

  // Cookie flow
  await step('cookie login sets HttpOnly token cookies and readable CSRF cookies', async () => {
    const reply = await call(base, 'POST', '/cookie/login', { body: { username: 'alice', password: 'wonderland' } });
    check('cookie login', reply, 200);
    const names = reply.setCookies.map((c) => c.slice(0, c.indexOf('=')));
    const expected = ['access_token_cookie', 'csrf_access_token', 'refresh_token_cookie', 'csrf_refresh_token'];
    if (JSON.stringify(names) !== JSON.stringify(expected)) throw new Error(`cookie names: ${names.join(', ')}`);
    if (!reply.setCookies[0].includes('HttpOnly') || reply.setCookies[1].includes('HttpOnly')) throw new Error('HttpOnly flags are wrong');
    const jar = reply.setCookies.map((c) => c.slice(0, c.indexOf(';'))).join('; ');
    const csrf = (name: string) =>
      reply.setCookies
        .find((c) => c.startsWith(`${name}=`))!
        .split(';')[0]
        .split('=')[1];
    check('note without CSRF', await call(base, 'POST', '/cookie/notes', { headers: { Cookie: jar }, body: { text: 'x' } }), 401, {
      msg: 'Missing CSRF token',
    });
    check(
      'note with wrong CSRF',
      await call(base, 'POST', '/cookie/notes', {
        headers: { Cookie: jar, 'X-CSRF-TOKEN': csrf('csrf_refresh_token') },
        body: { text: 'x' },
      }),
      401,
      { msg: 'CSRF double submit tokens do not match' },
    );
    check(
      'note with CSRF',
      await call(base, 'POST', '/cookie/notes', {
        headers: { Cookie: jar, 'X-CSRF-TOKEN': csrf('csrf_access_token') },
        body: { text: 'hi' },
      }),
      201,
    );
    check(
      'cookie refresh',
      await call(base, 'POST', '/cookie/refresh', { headers: { Cookie: jar, 'X-CSRF-TOKEN': csrf('csrf_refresh_token') } }),
      200,
    );
    const logout = await call(base, 'DELETE', '/cookie/logout', { headers: { Cookie: jar } });
    check('cookie logout', logout, 200);
    if (logout.setCookies.length !== 4 || !logout.setCookies.every((c) => c.includes('Max-Age=0')))
      throw new Error('logout did not expire the 4 cookies');
    // The logout route is public: a stale cookie without the CSRF header never blocks it.
    const stale = await call(base, 'DELETE', '/cookie/logout', { headers: { Cookie: 'access_token_cookie=expired.or.broken' } });
    check('cookie logout with a broken cookie', stale, 200);
    if (stale.setCookies.length !== 4) throw new Error('logout with a broken cookie did not expire the 4 cookies');
  });
  await step('GraphQL: the public query is open, me needs a token and returns the user', async () => {
    const graphql = (query: string, token?: string) => call(base, 'POST', '/graphql', { token, body: { query } });
    check('graphql hello', await graphql('{ hello }'), 200, { data: { hello: 'Hello from GraphQL' } });
    const denied = await graphql('{ me { username role } }');
    const error = (denied.body.errors as { message: string; extensions: { status: number } }[] | undefined)?.[0];
    if (
      error?.message !== 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")' ||
      error.extensions.status !== 401
    ) {
      throw new Error(`graphql me without token: ${JSON.stringify(denied.body)}`);
    }
    if (JSON.stringify(denied.body).includes('stacktrace')) throw new Error('graphql error carries a stack trace');
    const token = String((await login('alice', 'wonderland')).body.access_token);
    check('graphql me', await graphql('{ me { username role } }', token), 200, { data: { me: { username: 'alice', role: 'admin' } } });
  });

  // The same tokens on the socket.io gateway
  await runWsSmoke(
    base,
    step,
    async () => String((await login('alice', 'wonderland')).body.access_token),
    async (token) => check('logout for chat', await call(base, 'DELETE', '/auth/logout', { token }), 200),
  );
  await step('the HTML page is served', async () => {
    const page = await fetch(`${base}/`);
    if (page.status !== 200 || !(await page.text()).includes('csrf_access_token')) throw new Error('page missing');
  });
  return passed;
}
