import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import type { ValidatedJwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import { JWT_PUBLIC_METADATA, JWT_REQUIRED_METADATA } from '../decorators/metadata-keys.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { type MaybePromise, attempt, chain } from '../loaders/maybe-promise.js';
import type { HttpRequestLike } from '../request/http-adapter.js';
import { contextAdapter } from '../request/contexts/execution-contexts.js';
import { isGuarded, markGuarded } from '../request/jwt-request-state.js';
import { RequestVerifier } from '../request/request-verifier.service.js';

/** `@UseGuards(JwtGuard)` or the global guard without `@JwtRequired()`: the defaults (also what nestjs-jwt-extended/swagger documents there). */
export const DEFAULT_OPTIONS: ValidatedJwtRequiredOptions = Object.freeze({});

/** A `@JwtPublic()` route: no token is read. */
export const PUBLIC = Symbol('public');

/** What a (class, handler) asks of the guard. */
export type Protection = ValidatedJwtRequiredOptions | typeof PUBLIC;

/** Whether `@UseGuards(JwtGuard)` (or a subclass of it) is bound on this very target. */
function bindsJwtGuard(target: object): boolean {
  const guards = Reflect.getOwnMetadata(GUARDS_METADATA, target) as unknown[] | undefined;
  return (guards ?? []).some((guard) =>
    typeof guard === 'function' ? guard === JwtGuard || guard.prototype instanceof JwtGuard : guard instanceof JwtGuard,
  );
}

/**
 * @internal The declaration on a handler or a class, own or inherited from the nearest base class that
 * has one. On one target `@JwtRequired()` wins over `@JwtPublic()`: a contradiction fails closed.
 * A bare `@UseGuards(JwtGuard)` declares the defaults there, so a looser class never opens it.
 */
export function declaredOn(target: object): Protection | undefined {
  for (let t: unknown = target; typeof t === 'function' && t !== Function.prototype; t = Object.getPrototypeOf(t)) {
    const required = Reflect.getOwnMetadata(JWT_REQUIRED_METADATA, t) as ValidatedJwtRequiredOptions | undefined;
    if (required) return required;
    if (Reflect.getOwnMetadata(JWT_PUBLIC_METADATA, t) === true) return PUBLIC;
    if (bindsJwtGuard(t)) return DEFAULT_OPTIONS;
  }
  return undefined;
}

/**
 * @internal The nearest declaration for a (controller class, handler): the handler's, else the
 * class's; `undefined` when neither declares anything (the global guard then applies the
 * defaults). The one resolution the guard and `nestjs-jwt-extended/swagger` both use.
 */
export function declaredProtection(controller: object, handler: object): Protection | undefined {
  return declaredOn(handler) ?? declaredOn(controller);
}

/**
 * Protects a route: applied by `@JwtRequired()` / `@JwtPublic()`, by `@UseGuards(JwtGuard)`, or
 * app-wide by `globalGuard`. Nearest declaration wins (handler, else class, else the defaults),
 * and a handler's options replace its class's as a whole.
 */
@Injectable()
export class JwtGuard implements CanActivate {
  // Per (controller class, handler), cached: two WeakMap reads per request beat a metadata walk.
  private readonly protectionCache = new WeakMap<object, WeakMap<object, Protection>>();

  /** @internal Created by Nest. */
  constructor(
    private readonly verifier: RequestVerifier,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {}

  /** Synchronous while verification is (a cached token, loaders that answer directly): Nest then awaits nothing. */
  canActivate(context: ExecutionContext): MaybePromise<boolean> {
    return attempt(
      () => this.protect(context),
      (error) => this.contextError(error, context),
    );
  }

  /**
   * Failures are the library's exceptions (error loaders shape them in JwtErrorFilter), in the
   * exception type of the context they leave through.
   */
  private async contextError(error: unknown, context: ExecutionContext): Promise<never> {
    throw await contextAdapter(context).toContextError(error, context, this.config);
  }

  private protect(context: ExecutionContext): MaybePromise<boolean> {
    const req = this.getRequest(context);
    const protection = this.protectionFor(context);
    // Every binding (global, class, handler) of this module reads the same (class, handler), so the
    // first one to run applies the nearest declaration and the others have nothing left to do. Not
    // per request alone: one GraphQL request runs many resolvers, each with its own protection.
    if (isGuarded(req, this.config, protection)) return true;
    if (protection === PUBLIC) {
      this.verifier.skip(req);
      return this.guarded(context, req, protection);
    }
    return chain(this.verifier.verify(req, protection), () => this.guarded(context, req, protection));
  }

  private guarded(context: ExecutionContext, req: HttpRequestLike, protection: Protection): true {
    markGuarded(req, this.config, protection);
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
    return contextAdapter(context).getRequest(context, this.config);
  }

  private protectionFor(context: ExecutionContext): Protection {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.protectionCache.get(controller);
    if (!byHandler) {
      byHandler = new WeakMap();
      this.protectionCache.set(controller, byHandler);
    }
    let protection = byHandler.get(handler);
    if (!protection) {
      protection = declaredProtection(controller, handler) ?? DEFAULT_OPTIONS;
      byHandler.set(handler, protection);
    }
    return protection;
  }
}
