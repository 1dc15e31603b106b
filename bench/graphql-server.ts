/**
 * The GraphQL benchmark's server, run in its own process: `node graphql-server.js express|fastify`
 * (Apollo on Express, Mercurius on Fastify). Prints `READY <port>` once it listens on 127.0.0.1.
 */
import 'reflect-metadata';
import { type DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { JwtExtendedModule, JwtIdentity, JwtRequired } from 'nestjs-jwt-extended';

const SECRET = 'bench-secret-that-is-at-least-32-bytes-long';

@Resolver()
class BenchResolver {
  /** No guard at all: the GraphQL floor. */
  @Query(() => String)
  open() {
    return 'ok';
  }

  @Query(() => String)
  @JwtRequired()
  me(@JwtIdentity() id: string) {
    return id;
  }
}

const fastify = process.argv[2] === 'fastify';
const graphql: DynamicModule = fastify
  ? GraphQLModule.forRoot<MercuriusDriverConfig>({
      driver: MercuriusDriver,
      autoSchemaFile: true,
      context: (request: unknown, reply: unknown) => ({ request, reply }),
    })
  : GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      autoSchemaFile: true,
      context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
    });

@Module({ imports: [JwtExtendedModule.forRoot({ secretKey: SECRET }), graphql], providers: [BenchResolver] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, fastify ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
await app.listen(0, '127.0.0.1');
console.log(`READY ${(app.getHttpServer().address() as { port: number }).port}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
