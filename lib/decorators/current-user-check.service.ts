import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { currentUserFactory } from './jwt-params.decorators.js';

/**
 * At start-up, warns about every controller handler or resolver that takes `@CurrentUser()` while no
 * `userLookup` loader is configured: each request to it would fail with a 500.
 */
@Injectable()
export class CurrentUserCheck implements OnModuleInit {
  private readonly logger = new Logger('JwtExtendedModule');

  constructor(
    @Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    if (this.loaders.userLookup) return;
    // Providers too: GraphQL resolvers (and gateways) are providers whose methods take param decorators.
    const classes = new Set([...this.discovery.getControllers(), ...this.discovery.getProviders()].map(({ metatype }) => metatype));
    for (const metatype of classes) {
      if (typeof metatype !== 'function') continue;
      for (const method of this.scanner.getAllMethodNames(metatype.prototype as object)) {
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, method) ?? {}) as Record<string, { factory?: unknown }>;
        if (Object.values(args).some((arg) => arg.factory === currentUserFactory)) {
          this.logger.warn(
            `${metatype.name}.${method} uses @CurrentUser() but no userLookup loader is configured: ` +
              'requests to it fail with 500 until loaders.userLookup is set',
          );
        }
      }
    }
  }
}
