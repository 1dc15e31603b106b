import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { JwtErrorFilter } from '../errors/jwt-error.filter.js';
import type { JwtExtendedLoaders, ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { LOADER_ROLES, type LoaderRole, isErrorLoaderRole, isLoaderRole } from '../loaders/loader-roles.js';
import { JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';

export interface JwtExtendedModuleExtras {
  /** Loader classes by role (see `JwtExtendedLoaders`). */
  loaders?: JwtExtendedLoaders;
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
}

function loaderEntries(loaders: JwtExtendedLoaders | undefined): [LoaderRole, Type][] {
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
function uniqueClasses(entries: [LoaderRole, Type][]): Type[] {
  return [...new Set(entries.map(([, loader]) => loader))];
}

/**
 * Registers each loader class once as a provider of the module (so it injects what
 * the module's `imports` provide), and maps roles to instances, checking at start-up
 * that each instance has its role's method.
 */
function loaderProviders(entries: [LoaderRole, Type][]): Provider[] {
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

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<JwtExtendedOptions>({ moduleName: 'JwtExtended' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createJwtExtendedOptions')
    .setExtras<JwtExtendedModuleExtras>({ isGlobal: true, loaders: undefined }, (definition, extras) => {
      const entries = loaderEntries(extras.loaders);
      return {
        ...definition,
        global: extras.isGlobal,
        // The filter is always provided, so an app can also order it among its own global filters.
        providers: [...(definition.providers ?? []), JwtErrorFilter, ...loaderProviders(entries)],
        // Loader classes are exported so the app can inject them (e.g. a blocklist store to revoke tokens).
        exports: [...(definition.exports ?? []), JwtErrorFilter, ...uniqueClasses(entries)],
      };
    })
    .build();

/** What `JwtExtendedModule.forRoot()` takes: the options, `loaders` and `isGlobal`. */
export type JwtExtendedModuleOptions = typeof OPTIONS_TYPE;
/** What `JwtExtendedModule.forRootAsync()` takes: `imports`, `inject`, `useFactory | useClass | useExisting`, `loaders`, `isGlobal`. */
export type JwtExtendedModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
