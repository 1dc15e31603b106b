import { type DynamicModule, type ForwardReference, Logger, type ModuleMetadata, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, DiscoveryService } from '@nestjs/core';
import { configureStore } from '../blocklist/store-settings.js';
import { JWT_BLOCKLIST, JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import { resolveConfig } from '../config/resolve-config.js';
import { CookieWriter } from '../cookies/cookie-writer.service.js';
import { CurrentUserCheck } from '../decorators/current-user-check.service.js';
import { ResolveFieldCheck } from '../decorators/resolve-field-check.service.js';
import { ErrorResponder } from '../errors/error-responder.service.js';
import { JwtErrorFilter } from '../errors/jwt-error.filter.js';
import { JwtGuard } from '../guard/jwt.guard.js';
import { KeyRing } from '../keys/key-ring.js';
import type { JwtExtendedLoaders, ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { LOADER_ROLES, type LoaderRole, isErrorLoaderRole, isLoaderRole } from '../loaders/loader-roles.js';
import { RequestVerifier } from '../request/request-verifier.service.js';
import { RefreshRotation, checkRotationLoaders } from '../rotation/refresh-rotation.service.js';
import { TokenExtractor } from '../request/token-extractor.service.js';
import { JwtExtendedService } from '../service/jwt-extended.service.js';
import { TokenDecoder } from '../tokens/token-decoder.service.js';
import { TokenSigner } from '../tokens/token-signer.service.js';
import { JwksRoute } from './jwks-route.js';

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
      checkRotationLoaders(config, loaders);
      configureStore(loaders.refreshTokenStore, config);
      return config;
    },
  };
}

/** Keys by `kid` and the public JWKS: thumbprints and JWK export (jose) are asynchronous, so they are computed once here. */
export const keyRingProvider: Provider = {
  provide: KeyRing,
  inject: [JWT_EXTENDED_CONFIG],
  useFactory: (config: JwtExtendedConfig) => KeyRing.create(config),
};

/** The library's own services; the first row is what the module exports. */
export const EXPORTED_SERVICES = [JwtExtendedService, JwtGuard, RequestVerifier, ErrorResponder, JwtErrorFilter];
export const SERVICES = [
  ...EXPORTED_SERVICES,
  TokenSigner,
  TokenDecoder,
  TokenExtractor,
  CookieWriter,
  CurrentUserCheck,
  ResolveFieldCheck,
  JwksRoute,
  RefreshRotation,
];

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

type ModuleImport = NonNullable<ModuleMetadata['imports']>[number];

/** A module's own metadata and, for a dynamic module, what its definition adds. */
function moduleMetadata(imported: Type | DynamicModule, key: 'providers' | 'exports'): unknown[] {
  const moduleClass = 'module' in imported ? imported.module : imported;
  // Nest's MODULE_METADATA keys: '@nestjs/common/constants' is not part of the public API.
  const declared = (Reflect.getMetadata(key, moduleClass) as unknown[] | undefined) ?? [];
  return 'module' in imported ? [...declared, ...(imported[key] ?? [])] : declared;
}

const MODULE_KEYS = ['providers', 'imports', 'exports', 'controllers'];
/** An exported module (class or dynamic), told apart from an exported provider class. */
const isModule = (value: unknown): value is Type | DynamicModule =>
  typeof value === 'function'
    ? MODULE_KEYS.some((key) => Reflect.hasMetadata(key, value))
    : typeof value === 'object' && value !== null && 'module' in value;

const providesClass = (provider: unknown, loader: Type) =>
  provider === loader || (typeof provider === 'object' && provider !== null && (provider as { provide?: unknown }).provide === loader);

/** Whether `imported` exports `loader`, itself or through a module it re-exports (as Nest resolves it). */
function exportsClass(imported: Type | DynamicModule, loader: Type, seen = new Set<unknown>()): boolean {
  if (seen.has(imported)) return false;
  seen.add(imported);
  return moduleMetadata(imported, 'exports').some(
    (exported) => providesClass(exported, loader) || (isModule(exported) && exportsClass(exported, loader, seen)),
  );
}

/**
 * The loader classes this module creates itself: those no module in `imports` exports.
 * One an imported module exports is injected from there, so the app and the library share
 * one instance, built where it is declared. Promised and forward-referenced imports
 * cannot be read while the module is defined, so they are not searched.
 */
export function ownLoaderClasses(entries: [LoaderRole, Type][], imports: ModuleImport[]): Type[] {
  const modules = imports.filter(
    (imported): imported is Type | DynamicModule =>
      Boolean(imported) && !(imported instanceof Promise) && !('forwardRef' in (imported as ForwardReference)),
  );
  return uniqueClasses(entries).filter((loader) => {
    if (modules.some((imported) => exportsClass(imported, loader))) return false;
    const hidden = modules.find((imported) => moduleMetadata(imported, 'providers').some((provider) => providesClass(provider, loader)));
    if (hidden) {
      // Creating a second instance here would silently split the app's state from the library's.
      const name = 'module' in hidden ? hidden.module.name : hidden.name;
      throw new TypeError(
        `JwtExtendedModule: loader ${loader.name} is provided by ${name} but not exported; add it to ${name}'s exports so that instance is used`,
      );
    }
    return true;
  });
}

/** What the module exports besides its services: the loaders it created and, with a blocklist loader, `JWT_BLOCKLIST`. */
export function loaderExports(entries: [LoaderRole, Type][], own: Type[]): (Type | symbol)[] {
  return entries.some(([role]) => role === 'blocklist') ? [...own, JWT_BLOCKLIST] : own;
}

/**
 * Refuses a loader class that another module of the app provides as well: Nest would build a
 * second instance there, and what the app does through it (revoking a token, adding a user)
 * would never reach the instance the library uses. Which modules an app has is only known
 * once Nest has scanned them all, so this runs while the app starts, not in `forRoot`.
 */
function refuseSecondInstances(discovery: DiscoveryService, entries: [LoaderRole, Type][], classes: Type[], instances: object[]): void {
  const wrappers = discovery.getProviders();
  classes.forEach((loader, index) => {
    // An alias (`useExisting`) hands out another provider's instance: not a second one.
    const declared = wrappers.filter((wrapper) => !wrapper.isAlias && (wrapper.token === loader || wrapper.metatype === loader));
    if (declared.length < 2) return;
    const used = declared.find((wrapper) => wrapper.instance === instances[index]);
    const second = declared.find((wrapper) => wrapper !== used)!;
    const roles = entries.filter(([, entry]) => entry === loader).map(([role]) => `loaders.${role}`);
    const where = (wrapper: typeof used) => wrapper?.host?.name ?? 'another module';
    const token = roles.includes('loaders.blocklist') ? ' (or JWT_BLOCKLIST)' : '';
    throw new TypeError(
      `JwtExtendedModule: loader ${loader.name} (${roles.join(', ')}) is provided a second time by ${where(second)}: ` +
        `a second instance, apart from the one the library uses (from ${where(used)}). ` +
        `Remove it from ${where(second)}'s providers and inject the one from ${where(used)}${token}, ` +
        `or provide it once, in a module that exports it, and list that module in forRoot({ imports })`,
    );
  });
}

/**
 * Registers the loader classes the module creates itself (`own`) as its providers (so
 * they inject what the module's `imports` provide), and maps roles to instances, checking
 * at start-up that each class has one instance in the app and that each instance has its
 * role's method.
 */
export function loaderProviders(entries: [LoaderRole, Type][], own: Type[]): Provider[] {
  const classes = uniqueClasses(entries);
  const providers: Provider[] = [
    ...own,
    {
      provide: JWT_EXTENDED_LOADERS,
      inject: [DiscoveryService, ...classes],
      useFactory: (discovery: DiscoveryService, ...instances: object[]): ResolvedLoaders => {
        refuseSecondInstances(discovery, entries, classes, instances);
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
  const blocklist = entries.find(([role]) => role === 'blocklist');
  // The same instance as the loader, wherever it was created.
  if (blocklist) providers.push({ provide: JWT_BLOCKLIST, useExisting: blocklist[1] });
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
