import { Logger, Module } from '@nestjs/common';
import { configureStore } from '../blocklist/store-settings.js';
import { CookieWriter } from '../cookies/cookie-writer.service.js';
import { ErrorResponder } from '../errors/error-responder.service.js';
import { JwtGuard } from '../guard/jwt.guard.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { RequestVerifier } from '../request/request-verifier.service.js';
import { TokenExtractor } from '../request/token-extractor.service.js';
import { JwtExtendedService } from '../service/jwt-extended.service.js';
import { TokenDecoder } from '../tokens/token-decoder.service.js';
import { TokenSigner } from '../tokens/token-signer.service.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } from './jwt-extended.module-definition.js';
import type { JwtExtendedOptions } from '../config/jwt-extended-options.interface.js';
import { resolveConfig } from '../config/resolve-config.js';

const logger = new Logger('JwtExtendedModule');

/**
 * Flask-JWT-Extended for NestJS.
 *
 * ```ts
 * JwtExtendedModule.forRoot({ secretKey: process.env.JWT_SECRET, loaders: { userLookup: UserLoader } })
 * ```
 * Options are validated while the application starts: a bad configuration stops it.
 */
@Module({
  providers: [
    {
      provide: JWT_EXTENDED_CONFIG,
      inject: [MODULE_OPTIONS_TOKEN, JWT_EXTENDED_LOADERS],
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
    },
    TokenSigner,
    TokenDecoder,
    TokenExtractor,
    RequestVerifier,
    CookieWriter,
    ErrorResponder,
    JwtExtendedService,
    JwtGuard,
  ],
  exports: [JwtExtendedService, JwtGuard, RequestVerifier, ErrorResponder, JWT_EXTENDED_CONFIG],
})
export class JwtExtendedModule extends ConfigurableModuleClass {}
