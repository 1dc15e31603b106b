import { Inject, Injectable, Logger, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { KeyRing } from '../keys/key-ring.js';

/** Caches may keep the key set this long (seconds): short enough that a new key is seen well before it signs alone. */
export const JWKS_CACHE_CONTROL = 'public, max-age=300';

/**
 * Serves `getPublicJwks()` at `jwksPath` (GET, and HEAD with it). Registered on the HTTP
 * adapter itself while the app initialises, not as a controller: the path is only known
 * once (possibly async) options resolve, no controller has to be added by the user, and
 * no guard, global or not, ever stands in front of a public key set.
 */
@Injectable()
export class JwksRoute implements OnModuleInit {
  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    private readonly keyRing: KeyRing,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const path = this.config.jwksPath;
    if (path === undefined) return;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) {
      // A microservice-only application has no HTTP server to serve it on.
      new Logger('JwtExtendedModule').warn(`jwksPath ${path} is not served: the application has no HTTP adapter`);
      return;
    }
    adapter.get(path, (_request: unknown, response: unknown) => {
      adapter.setHeader(response, 'Cache-Control', JWKS_CACHE_CONTROL);
      adapter.reply(response, this.keyRing.publicJwks(), 200);
    });
  }
}
