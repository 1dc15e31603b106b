import { type DynamicModule, Module } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ProfileResolver } from './profile.resolver.js';

@Module({})
export class SampleGraphQLModule {
  /**
   * POST /graphql: Apollo on Express, Mercurius on Fastify. The context hands resolvers the HTTP
   * request and response (Apollo's default context has no `res`; cookie helpers need it).
   */
  static forAdapter(adapter: 'express' | 'fastify'): DynamicModule {
    const graphql =
      adapter === 'express'
        ? GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            autoSchemaFile: true,
            context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
            // Apollo puts stack traces in error responses unless NODE_ENV=production.
            includeStacktraceInErrorResponses: false,
          })
        : GraphQLModule.forRoot<MercuriusDriverConfig>({
            driver: MercuriusDriver,
            autoSchemaFile: true,
            context: (request: unknown, reply: unknown) => ({ request, reply }),
          });
    return { module: SampleGraphQLModule, imports: [graphql], providers: [ProfileResolver] };
  }
}
