import type { IncomingMessage } from 'node:http';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { describe, expect, it } from '@jest/globals';
import { WebSocket } from 'ws';
import { JwtIdentity, JwtRequired } from '../../lib/index.js';
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

@Resolver()
class LiveResolver {
  @Query(() => String)
  ping() {
    return 'pong';
  }

  @Subscription(() => String, { resolve: (value: string) => value })
  @JwtRequired()
  async *whoami(@JwtIdentity() id: string) {
    yield id;
  }
}

const graphql = GraphQLModule.forRoot<ApolloDriverConfig>({
  driver: ApolloDriver,
  autoSchemaFile: true,
  subscriptions: { 'graphql-ws': true },
  // HTTP operations: Apollo's { req, res }; subscriptions: graphql-ws's { extra: { request } }.
  context: ({ req, res, extra }: { req?: unknown; res?: unknown; extra?: { request: IncomingMessage } }) => ({
    req: req ?? extra?.request,
    res,
  }),
  includeStacktraceInErrorResponses: false,
});

/** One graphql-transport-ws subscription: the first `next` payload, or the `error` payload. */
function subscribe(url: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { whoami }' } }));
      } else if (message.type === 'next' || message.type === 'error') {
        ws.close();
        resolve({ [message.type]: message.payload });
      }
    });
    ws.on('close', () => resolve({ closed: true }));
  });
}

describe('Apollo subscriptions (graphql-ws) with cookie tokens', () => {
  const t = useTestApp('express', {
    imports: [graphql],
    providers: [LiveResolver],
    options: { tokenLocation: ['cookies'], wsAllowedOrigins: [ALLOWED] },
  });

  it('a cookie from an origin not in wsAllowedOrigins does not open a protected subscription', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    const reply = (await subscribe(t.url, { cookie, origin: 'https://evil.example' })) as Record<string, unknown>;
    expect(JSON.stringify(reply)).not.toContain('alice');
  });

  it('(sanity) the same cookie from the allowed origin opens it', async () => {
    const cookie = `access_token_cookie=${await t.jwt.createAccessToken('alice')}`;
    expect(await subscribe(t.url, { cookie, origin: ALLOWED })).toEqual({ next: { data: { whoami: 'alice' } } });
  });
});
