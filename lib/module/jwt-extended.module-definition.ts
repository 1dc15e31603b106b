import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import type { JwtExtendedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { globalGuardProviders, loaderEntries, loaderProviders, uniqueClasses } from './jwt-extended.providers.js';

export interface JwtExtendedModuleExtras {
  /** Loader classes by role (see `JwtExtendedLoaders`). */
  loaders?: JwtExtendedLoaders;
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
  /** Guard every route with `JwtGuard` (`APP_GUARD`); open routes with `@JwtPublic()`. Default `false`. */
  globalGuard?: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<JwtExtendedOptions>({ moduleName: 'JwtExtended' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createJwtExtendedOptions')
    .setExtras<JwtExtendedModuleExtras>({ isGlobal: true, loaders: undefined, globalGuard: false }, (definition, extras) => {
      const entries = loaderEntries(extras.loaders);
      return {
        ...definition,
        global: extras.isGlobal,
        providers: [...(definition.providers ?? []), ...loaderProviders(entries), ...globalGuardProviders(extras.globalGuard)],
        // Loader classes are exported so the app can inject them (e.g. a blocklist store to revoke tokens).
        exports: [...(definition.exports ?? []), ...uniqueClasses(entries)],
      };
    })
    .build();

/** What `JwtExtendedModule.forRoot()` takes: the options, `loaders`, `isGlobal` and `globalGuard`. */
export type JwtExtendedModuleOptions = typeof OPTIONS_TYPE;
/** What `JwtExtendedModule.forRootAsync()` takes: `imports`, `inject`, `useFactory | useClass | useExisting`, `loaders`, `isGlobal`, `globalGuard`. */
export type JwtExtendedModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
