import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './jwt-extended.module-definition.js';
import { EXPORTED_SERVICES, SERVICES, configProvider, keyRingProvider } from './jwt-extended.providers.js';

/**
 * Flask-JWT-Extended for NestJS.
 *
 * ```ts
 * JwtExtendedModule.forRoot({ secretKey: process.env.JWT_SECRET, loaders: { userLookup: UserLoader } })
 * ```
 * Options are validated while the application starts: a bad configuration stops it.
 * `JwtErrorFilter` is always provided and exported, so an app can also order it among its own global filters.
 */
@Module({
  // DiscoveryModule: the start-up check of `@CurrentUser()` handlers walks the app's controllers.
  imports: [DiscoveryModule],
  providers: [configProvider(MODULE_OPTIONS_TOKEN), keyRingProvider, ...SERVICES],
  exports: [...EXPORTED_SERVICES, JWT_EXTENDED_CONFIG],
})
export class JwtExtendedModule extends ConfigurableModuleClass {}
