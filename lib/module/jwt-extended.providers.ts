import { Logger, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { configureStore } from '../blocklist/store-settings.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import { resolveConfig } from '../config/resolve-config.js';
import { CookieWriter } from '../cookies/cookie-writer.service.js';
import { CurrentUserCheck } from '../decorators/current-user-check.service.js';
import { ErrorResponder } from '../errors/error-responder.service.js';
import { JwtErrorFilter } from '../errors/jwt-error.filter.js';
import { JwtGuard } from '../guard/jwt.guard.js';
import type { JwtExtendedLoaders, ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { LOADER_ROLES, type LoaderRole, isErrorLoaderRole, isLoaderRole } from '../loaders/loader-roles.js';
import { RequestVerifier } from '../request/request-verifier.service.js';
import { TokenExtractor } from '../request/token-extractor.service.js';
import { JwtExtendedService } from '../service/jwt-extended.service.js';
import { TokenDecoder } from '../tokens/token-decoder.service.js';
import { TokenSigner } from '../tokens/token-signer.service.js';

const logger = new Logger('JwtExtendedModule');

/** The resolved configuration: options validated and keys imported once, while the app starts. */
export function configProvider(optionsToken: string | symbol): Provider {
  return {
    provide: JWT_EXTENDED_CONFIG,
    inject: [optionsToken, JWT_EXTENDED_LOADERS],
    useFactory: (options: JwtExtendedOptions, loaders: ResolvedLoaders): JwtExtendedConfig => {
      const { config, warnings } = resolveConfig(options, {
        encodeKey: Boolean(loaders.encodeKey),
        decodeKey: Boolean(loaders.decodeKey),
      });
      for (const warning of warnings) logger.warn(warning);
      // A ready store follows this configuration (identity claim, leeway, lifetimes) from before the first request.
      configureStore(loaders.blocklist, config);
      return config;
    },
  };
}

/** The library's own services; the first row is what the module exports. */
export const EXPORTED_SERVICES = [JwtExtendedService, JwtGuard, RequestVerifier, ErrorResponder, JwtErrorFilter];
export const SERVICES = [...EXPORTED_SERVICES, TokenSigner, TokenDecoder, TokenExtractor, CookieWriter, CurrentUserCheck];

export function loaderEntries(loaders: JwtExtendedLoaders | undefined): [LoaderRole, Type][] {
  if (loaders === undefined) return [];
  if (typeof loaders !== 'object' || loaders === null) throw new TypeError('JwtExtendedModule: "loaders" must be an object');
  return Object.entries(loaders).map(([role, loader]) => {
    if (!isLoaderRole(role)) {
      throw new TypeError(`JwtExtendedModule: "loaders.${role}" is not a loader role; use one of ${Object.keys(LOADER_ROLES).join(', ')}`);
    }
    if (typeof loader !== 'function') {
      throw new TypeError(`JwtExtendedModule: "loaders.${role}" must be an @Injectable() class`);
    }
    return [role, loader as Type];
  });
}

/** Each loader class once, however many roles it fills. */
export function uniqueClasses(entries: [LoaderRole, Type][]): Type[] {
  return [...new Set(entries.map(([, loader]) => loader))];
}

/**
 * Registers each loader class once as a provider of the module (so it injects what
 * the module's `imports` provide), and maps roles to instances, checking at start-up
 * that each instance has its role's method.
 */
export function loaderProviders(entries: [LoaderRole, Type][]): Provider[] {
  const classes = uniqueClasses(entries);
  const providers: Provider[] = [
    ...classes,
    {
      provide: JWT_EXTENDED_LOADERS,
      inject: classes,
      useFactory: (...instances: object[]): ResolvedLoaders => {
        const resolved: Record<string, unknown> = {};
        for (const [role, loader] of entries) {
          const instance = instances[classes.indexOf(loader)] as Record<string, unknown>;
          const { method } = LOADER_ROLES[role];
          if (typeof instance[method] !== 'function') {
            throw new TypeError(`JwtExtendedModule: loaders.${role} (${loader.name}) must implement ${method}()`);
          }
          resolved[role] = instance;
        }
        return resolved as ResolvedLoaders;
      },
    },
  ];
  // Error loaders shape library exceptions wherever they are thrown; without one, no filter runs on any request.
  if (entries.some(([role]) => isErrorLoaderRole(role))) {
    providers.push({ provide: APP_FILTER, useExisting: JwtErrorFilter });
  }
  return providers;
}

/**
 * `globalGuard: true`: `JwtGuard` guards every route. Bound with `useExisting`, so
 * `overrideProvider(JwtGuard)` in a test replaces the global guard too.
 */
export function globalGuardProviders(globalGuard: unknown): Provider[] {
  if (globalGuard !== undefined && typeof globalGuard !== 'boolean') {
    throw new TypeError(`JwtExtendedModule: "globalGuard" must be a boolean, got ${typeof globalGuard}`);
  }
  return globalGuard ? [{ provide: APP_GUARD, useExisting: JwtGuard }] : [];
}
