import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ValidatedJwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import { JWT_REQUIRED_METADATA } from '../decorators/metadata-keys.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { HttpRequestLike } from '../request/http-adapter.js';
import { contextAdapter } from '../request/execution-contexts.js';
import { isGuarded, markGuarded } from '../request/jwt-request-state.js';
import { RequestVerifier } from '../request/request-verifier.service.js';

/** `@UseGuards(JwtGuard)` without `@JwtRequired()`: the defaults. */
const DEFAULT_OPTIONS: ValidatedJwtRequiredOptions = Object.freeze({});

/**
 * Protects a route: applied by `@JwtRequired()`, or by `@UseGuards(JwtGuard)` with
 * default options. A handler's options replace its class's as a whole.
 */
@Injectable()
export class JwtGuard implements CanActivate {
  // Per (controller class, handler), cached: two WeakMap reads per request beat Reflector's metadata walk.
  private readonly optionsCache = new WeakMap<object, WeakMap<object, ValidatedJwtRequiredOptions>>();

  /** @internal Created by Nest. */
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: RequestVerifier,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = this.getRequest(context);
    if (isGuarded(req)) return true;
    // Failures propagate as the library's exceptions; error loaders shape them in JwtErrorFilter.
    await this.verifier.verify(req, this.optionsFor(context));
    markGuarded(req);
    if (this.config.exposeCurrentUserToViews) {
      // The view locals mirror this verification and any later one of the request (verifyJwtInRequest).
      const res = contextAdapter(context).getResponse(context);
      if (res) this.verifier.bindResponse(req, res);
    }
    return true;
  }

  /**
   * The object the token is read from and the verified state is kept on. Override it (as with
   * `@nestjs/passport`'s `getRequest`) when a request reaches the guard in another shape.
   */
  protected getRequest(context: ExecutionContext): HttpRequestLike {
    return contextAdapter(context).getRequest(context);
  }

  private optionsFor(context: ExecutionContext): ValidatedJwtRequiredOptions {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.optionsCache.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.optionsCache.set(controller, byHandler);
    }
    let options = byHandler.get(handler);
    if (!options) {
      // Nearest declaration wins, no merge; class metadata is read through the prototype chain.
      options =
        this.reflector.getAllAndOverride<ValidatedJwtRequiredOptions | undefined>(JWT_REQUIRED_METADATA, [handler, controller]) ??
        DEFAULT_OPTIONS;
      byHandler.set(handler, options);
    }
    return options;
  }
}
