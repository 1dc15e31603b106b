import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import type { JwtExtendedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { loaderEntries, loaderProviders, uniqueClasses } from './jwt-extended.providers.js';

export interface JwtExtendedModuleExtras {
  /** Loader classes by role (see `JwtExtendedLoaders`). */
  loaders?: JwtExtendedLoaders;
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
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
        providers: [...(definition.providers ?? []), ...loaderProviders(entries)],
        // Loader classes are exported so the app can inject them (e.g. a blocklist store to revoke tokens).
        exports: [...(definition.exports ?? []), ...uniqueClasses(entries)],
      };
    })
    .build();

/** What `JwtExtendedModule.forRoot()` takes: the options, `loaders` and `isGlobal`. */
export type JwtExtendedModuleOptions = typeof OPTIONS_TYPE;
/** What `JwtExtendedModule.forRootAsync()` takes: `imports`, `inject`, `useFactory | useClass | useExisting`, `loaders`, `isGlobal`. */
export type JwtExtendedModuleAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
