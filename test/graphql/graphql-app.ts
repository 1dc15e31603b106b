import type { IncomingMessage } from 'node:http';
import type { DynamicModule } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver, Subscription } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import request from 'supertest';
import { WebSocket } from 'ws';
import { type JwtErrorExtensions, JwtIdentity, JwtRequired } from '../../lib/index.js';
import type { AdapterName } from '../support/app.js';

/** The GraphQL driver of each HTTP adapter: Apollo on Express, Mercurius on Fastify. */
export const DRIVER: Record<AdapterName, string> = { express: 'Apollo', fastify: 'Mercurius' };

/**
 * A code-first GraphQL module (schema in memory) for the adapter, with the context each driver's
 * users set so resolvers reach the HTTP response: `{ req, res }` / `{ request, reply }`.
 */
export function graphqlModule(adapter: AdapterName, options: { fieldGuards?: boolean; defaultContext?: boolean } = {}): DynamicModule {
  // Nest runs guards on @ResolveField() methods only when asked to.
  const fieldResolverEnhancers = options.fieldGuards ? (['guards'] as const) : [];
  return adapter === 'express'
    ? GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        // Without it, Nest's default Apollo context: `{ req }`.
        context: options.defaultContext ? undefined : ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
        includeStacktraceInErrorResponses: false,
        fieldResolverEnhancers: [...fieldResolverEnhancers],
      })
    : GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
        // Without it, Mercurius's default context: `{ reply, app, … }`.
        context: options.defaultContext ? undefined : (req: unknown, reply: unknown) => ({ request: req, reply }),
        fieldResolverEnhancers: [...fieldResolverEnhancers],
      });
}

export interface GraphQLCall {
  headers?: Record<string, string>;
  /** Appended to /graphql as its query string. */
  search?: string;
  /** More top-level keys of the POST body, next to `query`. */
  body?: Record<string, unknown>;
}

export interface GraphQLError {
  message: string;
  path?: string[];
  /** The library's extensions (exported type), whatever else a driver adds. */
  extensions?: Partial<JwtErrorExtensions> & Record<string, unknown>;
}

export interface GraphQLResult {
  status: number;
  data: Record<string, unknown> | null | undefined;
  errors: GraphQLError[] | undefined;
  setCookie: string[];
}

/** POSTs one operation to /graphql as JSON. */
export async function gql(url: string, query: string, call: GraphQLCall = {}): Promise<GraphQLResult> {
  const res = await request(url)
    .post(`/graphql${call.search ?? ''}`)
    .set(call.headers ?? {})
    .send({ query, ...call.body });
  const setCookie = res.headers['set-cookie'] as unknown as string[] | undefined;
  const body = res.body as { data?: Record<string, unknown> | null; errors?: GraphQLError[] };
  return { status: res.status, data: body.data, errors: body.errors, setCookie: setCookie ?? [] };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/**
 * One graphql-transport-ws subscription to `/graphql` (the upgrade request carries `headers`): the
 * first `next` payload, or the `error` payload, or `{ closed: true }`.
 */
export function subscribeOnce(url: string, query: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws', { headers });
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init' })));
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; payload?: unknown };
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
      } else if (message.type === 'next' || message.type === 'error') {
        ws.close();
        resolve({ [message.type]: message.payload });
      }
    });
    ws.on('close', () => resolve({ closed: true }));
  });
}

/** A protected subscription (`subscription { whoami }`) yielding the token's identity. */
@Resolver()
export class WhoamiSubscription {
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

/**
 * Apollo with graphql-ws subscriptions and the context Nest documents for them: HTTP operations get
 * Apollo's `{ req, res }`, subscriptions graphql-ws's upgrade request (`extra.request`) as `req`.
 */
export const subscriptionModule = (): DynamicModule =>
  GraphQLModule.forRoot<ApolloDriverConfig>({
    driver: ApolloDriver,
    autoSchemaFile: true,
    subscriptions: { 'graphql-ws': true },
    context: ({ req, res, extra }: { req?: unknown; res?: unknown; extra?: { request: IncomingMessage } }) => ({
      req: req ?? extra?.request,
      res,
    }),
    includeStacktraceInErrorResponses: false,
  });
