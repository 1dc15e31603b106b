import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ValidatedJwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import { JwtExtendedException } from '../errors/exceptions.js';
import { ErrorResponder } from '../errors/error-responder.service.js';
import { JWT_EXTENDED_CONFIG, JWT_REQUIRED_METADATA } from '../module/constants.js';
import type { JwtExtendedConfig } from '../module/jwt-extended-config.js';
import type { HttpRequestLike } from '../request/http-adapter.js';
import { isGuarded, markGuarded } from '../request/jwt-request-state.js';
import { RequestVerifier } from '../request/request-verifier.service.js';

/**
 * Protects a route: applied by `@JwtRequired()`, or by `@UseGuards(JwtGuard)` with
 * default options. Handler options override class options.
 */
@Injectable()
export class JwtGuard implements CanActivate {
  // Options per handler: metadata never changes after start-up, so read it once.
  private readonly optionsCache = new WeakMap<object, ValidatedJwtRequiredOptions>();

  /** @internal Created by Nest. */
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: RequestVerifier,
    private readonly errors: ErrorResponder,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    if (isGuarded(req)) return true;
    try {
      await this.verifier.verify(req, this.optionsFor(context));
    } catch (error) {
      throw error instanceof JwtExtendedException ? await this.errors.toResponse(error) : error;
    }
    markGuarded(req);
    // The view locals mirror this verification and any later one of the request (verifyJwtInRequest).
    if (this.config.exposeCurrentUserToViews) this.verifier.bindResponse(req, http.getResponse<object>());
    return true;
  }

  private optionsFor(context: ExecutionContext): ValidatedJwtRequiredOptions {
    const handler = context.getHandler();
    let options = this.optionsCache.get(handler);
    if (!options) {
      options = {
        ...this.reflector.get<ValidatedJwtRequiredOptions | undefined>(JWT_REQUIRED_METADATA, context.getClass()),
        ...this.reflector.get<ValidatedJwtRequiredOptions | undefined>(JWT_REQUIRED_METADATA, handler),
      };
      this.optionsCache.set(handler, options);
    }
    return options;
  }
}
