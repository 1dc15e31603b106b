import { describe, expect, it } from '@jest/globals';
import { useTestApp } from '../support/app.js';
import { WhoamiSubscription, subscribeOnce, subscriptionModule } from './graphql-app.js';

/*
 * graphql-ws subscriptions (Apollo): the context's request is the WebSocket upgrade request, read
 * as a gateway's handshake — headers and query as usual, a cookie only from a wsAllowedOrigins origin.
 */
const ALLOWED = 'https://app.example.com';

const WHOAMI = 'subscription { whoami }';

describe('Apollo subscriptions (graphql-ws): the upgrade request is a handshake', () => {
  const t = useTestApp('express', {
    imports: [subscriptionModule()],
    providers: [WhoamiSubscription],
    options: { tokenLocation: ['headers', 'cookies'], wsAllowedOrigins: [ALLOWED] },
  });

  it('an Authorization header opens a protected subscription whatever the Origin', async () => {
    const token = await t.jwt.createAccessToken('alice');
    const headers = { authorization: `Bearer ${token}`, origin: 'https://elsewhere.example' };
    expect(await subscribeOnce(t.url, WHOAMI, headers)).toEqual({ next: { data: { whoami: 'alice' } } });
  });

  it('a cookie from another origin counts as absent: the missing-token error', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    const reply = await subscribeOnce(t.url, WHOAMI, { cookie, origin: 'https://evil.example' });
    expect(JSON.stringify(reply)).not.toContain('alice');
    expect(reply).toMatchObject({
      next: {
        errors: [
          {
            message: 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")',
            path: ['whoami'],
            extensions: { status: 401 },
          },
        ],
      },
    });
  });

  it('a cookie from the allowed origin opens it, with no CSRF header (a handshake is a GET)', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    expect(await subscribeOnce(t.url, WHOAMI, { cookie, origin: ALLOWED })).toEqual({ next: { data: { whoami: 'alice' } } });
  });
});
