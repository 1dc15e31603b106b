import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PUBLIC, declaredOn } from '../guard/jwt.guard.js';

/*
 * Read by name, not imported: `@nestjs/graphql` stays an optional peer (HTTP-only apps never load
 * it). These are its GRAPHQL_MODULE_OPTIONS provider token and the metadata `@ResolveField()` sets.
 */
const GRAPHQL_MODULE_OPTIONS = 'GqlModuleOptions';
const RESOLVER_PROPERTY_METADATA = 'graphql:resolve_property';

interface GqlModuleOptionsLike {
  fieldResolverEnhancers?: unknown;
}

function runsFieldGuards(options: unknown): boolean {
  const enhancers = (options as GqlModuleOptionsLike | null | undefined)?.fieldResolverEnhancers;
  return Array.isArray(enhancers) && enhancers.includes('guards');
}

/**
 * At start-up, refuses a `@ResolveField()` method that declares a protection (`@JwtRequired()`,
 * `@JwtPublic()`, `@UseGuards(JwtGuard)`, or a `@JwtRequired()` resolver class) while a GraphQL
 * module does not run guards on field resolvers: Nest would resolve the field for anyone, and a
 * protection that silently does nothing is a fail-open. Options that cannot be read (no GraphQL
 * module found) count as not running them.
 */
@Injectable()
export class ResolveFieldCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const providers = this.discovery.getProviders();
    let guarded: boolean | undefined;
    for (const { metatype } of providers) {
      if (typeof metatype !== 'function' || !metatype.prototype) continue;
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const method of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[method] as object;
        if (Reflect.getMetadata(RESOLVER_PROPERTY_METADATA, handler) !== true) continue;
        const declared = declaredOn(handler) ?? (declaredOn(metatype) === PUBLIC ? undefined : declaredOn(metatype));
        if (declared === undefined) continue;
        guarded ??=
          providers.some(({ token }) => token === GRAPHQL_MODULE_OPTIONS) &&
          providers.every(({ token, instance }) => token !== GRAPHQL_MODULE_OPTIONS || runsFieldGuards(instance));
        if (!guarded) {
          throw new Error(
            `JwtExtendedModule: ${metatype.name}.${method} is a @ResolveField() with a JWT protection, but Nest runs no guard on ` +
              "field resolvers: set fieldResolverEnhancers: ['guards'] in the GraphQL module options (GraphQLModule.forRoot), " +
              'or the field resolves for anyone',
          );
        }
      }
    }
  }
}
