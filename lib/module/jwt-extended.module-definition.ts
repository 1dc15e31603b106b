import { ConfigurableModuleBuilder, type ModuleMetadata } from '@nestjs/common';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import type { JwtExtendedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { globalGuardProviders, loaderEntries, loaderExports, loaderProviders, ownLoaderClasses } from './jwt-extended.providers.js';

export interface JwtExtendedModuleExtras {
  /** Loader classes by role (see `JwtExtendedLoaders`). */
  loaders?: JwtExtendedLoaders;
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
  /**
   * Modules whose exported providers the loaders may inject (`forRoot`; `forRootAsync` takes them too).
   * A loader class one of them exports is used as that module's instance, not created again.
   */
  imports?: ModuleMetadata['imports'];
  /** Guard every route with `JwtGuard` (`APP_GUARD`); open routes with `@JwtPublic()`. Default `false`. */
  globalGuard?: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<JwtExtendedOptions>({ moduleName: 'JwtExtended' })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createJwtExtendedOptions')
    .setExtras<JwtExtendedModuleExtras>(
      { isGlobal: true, loaders: undefined, imports: undefined, globalGuard: false },
      (definition, extras) => {
        // forRootAsync puts its `imports` in the definition, forRoot leaves them among the extras: never both.
        const imports = [...(definition.imports ?? []), ...(extras.imports ?? [])];
        const entries = loaderEntries(extras.loaders);
        const own = ownLoaderClasses(entries, imports);
        return {
          ...definition,
          imports,
          global: extras.isGlobal,
          providers: [...(definition.providers ?? []), ...loaderProviders(entries, own), ...globalGuardProviders(extras.globalGuard)],
          // The loaders it creates are exported so the app can inject them (e.g. a blocklist store to revoke tokens).
          exports: [...(definition.exports ?? []), ...loaderExports(entries, own)],
        };
      },
    )
    .build();

/** What `JwtExtendedModule.forRoot()` takes: the options, `loaders`, `imports`, `isGlobal` and `globalGuard`. */
export type JwtExtendedModuleOptions = typeof OPTIONS_TYPE;
/** What `JwtExtendedModule.forRootAsync()` takes: `imports`, `inject`, `useFactory | useClass | useExisting`, `loaders`, `isGlobal`, `globalGuard`. */
export type JwtExtendedModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
