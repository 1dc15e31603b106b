import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { JwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import { JWT_EXTENDED_CONFIG, JWT_REQUIRED_METADATA } from '../module/constants.js';
import type { JwtExtendedConfig } from '../module/jwt-extended-config.js';
import { type HttpRequestLike, viewLocals } from '../request/http-adapter.js';
import { getJwtState, isGuarded, markGuarded } from '../request/jwt-request-state.js';
import { RequestVerifier } from '../request/request-verifier.service.js';

/**
 * Protects a route: applied by `@JwtRequired()`, or by `@UseGuards(JwtGuard)` with
 * default options. Handler options override class options.
 */
@Injectable()
export class JwtGuard implements CanActivate {
  // Options per handler: metadata never changes after start-up, so read it once.
  private readonly optionsCache = new WeakMap<object, JwtRequiredOptions>();

  /** @internal Created by Nest. */
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: RequestVerifier,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    if (isGuarded(req)) return true;
    // Failures propagate as the library's exceptions; error loaders shape them in JwtErrorFilter.
    await this.verifier.verify(req, this.optionsFor(context));
    markGuarded(req);
    if (this.config.exposeCurrentUserToViews) {
      viewLocals(http.getResponse<object>()).currentUser = getJwtState(req)?.user ?? null;
    }
    return true;
  }

  private optionsFor(context: ExecutionContext): JwtRequiredOptions {
    const handler = context.getHandler();
    let options = this.optionsCache.get(handler);
    if (!options) {
      options = {
        ...this.reflector.get<JwtRequiredOptions | undefined>(JWT_REQUIRED_METADATA, context.getClass()),
        ...this.reflector.get<JwtRequiredOptions | undefined>(JWT_REQUIRED_METADATA, handler),
      };
      this.optionsCache.set(handler, options);
    }
    return options;
  }
}
