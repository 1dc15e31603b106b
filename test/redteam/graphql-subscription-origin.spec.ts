import { describe, expect, it } from '@jest/globals';
import { WhoamiSubscription, subscribeOnce, subscriptionModule } from '../graphql/graphql-app.js';
import { useTestApp } from '../support/app.js';

/*
 * CONTRACT §10: "A cookie token on a handshake is accepted only when the handshake's Origin is
 * listed in the option wsAllowedOrigins (cross-site WebSocket hijacking: no CSRF header exists
 * there)." GraphQL subscriptions over graphql-ws are WebSocket handshakes too. With the context
 * Nest documents for subscriptions (the upgrade request as `req`: `extra.request`), the GraphQL
 * adapter reads that handshake like an HTTP request: its cookie counts whatever its Origin, so a
 * page on any site can open a subscription with the user's cookie. The same wsAllowedOrigins rule
 * must apply (or the adapter must refuse a WebSocket upgrade request as a GraphQL request).
 */
const ALLOWED = 'https://app.example.com';

describe('Apollo subscriptions (graphql-ws) with cookie tokens', () => {
  const t = useTestApp('express', {
    imports: [subscriptionModule()],
    providers: [WhoamiSubscription],
    options: { tokenLocation: ['cookies'], wsAllowedOrigins: [ALLOWED] },
  });

  it('a cookie from an origin not in wsAllowedOrigins does not open a protected subscription', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    const reply = (await subscribeOnce(t.url, 'subscription { whoami }', { cookie, origin: 'https://evil.example' })) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(reply)).not.toContain('alice');
  });

  it('(sanity) the same cookie from the allowed origin opens it', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    expect(await subscribeOnce(t.url, 'subscription { whoami }', { cookie, origin: ALLOWED })).toEqual({
      next: { data: { whoami: 'alice' } },
    });
  });
});
