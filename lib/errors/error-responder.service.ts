import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { type ErrorLoaderRole, LOADER_ROLES } from '../loaders/loader-roles.js';
import type { MaybePromise } from '../loaders/maybe-promise.js';
import { settleLoader } from '../loaders/settle-loader.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import {
  CsrfException,
  ExpiredTokenException,
  FreshTokenRequiredException,
  InvalidHeaderException,
  InvalidQueryParamException,
  type ErrorBodySettings,
  type JwtExtendedException,
  applyErrorBody,
  errorBodyOwner,
  JwtDecodeException,
  LoaderTimeoutException,
  NoAuthorizationException,
  RevokedTokenException,
  UserClaimsVerificationException,
  UserLookupException,
  WrongTokenException,
} from './exceptions.js';

const logger = new Logger('JwtExtendedModule');

type ExceptionClass = abstract new (...args: never[]) => JwtExtendedException;
type Respond = (error: JwtExtendedException) => MaybePromise<unknown>;

/** Which error-response loader shapes which exceptions (Flask's default callbacks). */
const SHAPED_BY: readonly (readonly [ErrorLoaderRole, readonly ExceptionClass[]])[] = [
  ['unauthorized', [NoAuthorizationException, CsrfException]],
  ['invalidToken', [InvalidHeaderException, InvalidQueryParamException, JwtDecodeException, WrongTokenException]],
  ['expiredToken', [ExpiredTokenException]],
  ['needsFreshToken', [FreshTokenRequiredException]],
  ['revokedToken', [RevokedTokenException]],
  ['tokenVerificationFailed', [UserClaimsVerificationException]],
  ['userLookupError', [UserLookupException]],
];

/** Calls a configured error loader the way its role says (LOADER_ROLES): with the reason, or the token. */
function bindResponder(role: ErrorLoaderRole, loader: object): Respond {
  const { method, errorResponse } = LOADER_ROLES[role];
  const call = (loader as Record<string, (...args: unknown[]) => MaybePromise<unknown>>)[method].bind(loader);
  return errorResponse === 'reason'
    ? (error) => call(error.reason)
    : (error) => call((error.jwtHeader ?? {}) as JwtHeader, (error.jwtPayload ?? {}) as JwtPayload);
}

/**
 * Why a loader's answer cannot be the response, if it cannot. The body is checked
 * here because Express would throw inside the filter and Fastify would answer 500.
 */
function refuse(response: unknown): string | undefined {
  if (!(response instanceof HttpException)) return `returned ${describeValue(response)} instead of an HttpException`;
  try {
    JSON.stringify(response.getResponse());
    return undefined;
  } catch {
    return 'returned an HttpException whose body cannot be serialised to JSON';
  }
}

function describeValue(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/**
 * Each module's responder, by its configuration: only one `JwtErrorFilter` catches an
 * exception, whichever module threw it, so the catching one hands it to its owner's.
 */
const RESPONDERS = new WeakMap<ErrorBodySettings, ErrorResponder>();

/**
 * The response `config`'s module gives `error` (its error loaders', or `error` itself): for
 * contexts no exception filter reaches, such as WebSocket gateways, where Nest applies no
 * app-wide filter.
 */
export function errorResponseOf(error: JwtExtendedException, config: ErrorBodySettings): Promise<HttpException> {
  const responder = RESPONDERS.get(config);
  return responder ? responder.toResponse(error) : Promise.resolve(error);
}

/** Turns a library exception into the response an error loader asks for (or leaves it as is). */
@Injectable()
export class ErrorResponder {
  /** Only the configured roles, resolved once. */
  private readonly responders: { role: ErrorLoaderRole; handles: readonly ExceptionClass[]; respond: Respond }[];

  constructor(
    @Inject(JWT_EXTENDED_LOADERS) loaders: ResolvedLoaders,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {
    this.responders = SHAPED_BY.flatMap(([role, handles]) => {
      const loader = loaders[role];
      return loader ? [{ role, handles, respond: bindResponder(role, loader) }] : [];
    });
    RESPONDERS.set(config, this);
  }

  /**
   * The loader's `HttpException`, or `error` itself when no loader shapes it. Never
   * rejects: a loader that throws, rejects, answers after `loaderTimeout` or returns
   * something else than an `HttpException` is logged, and the default response stands.
   */
  toResponse(error: JwtExtendedException): Promise<HttpException> {
    // The module the exception left the library through shapes it (§16, §17); app code's own exceptions are this module's.
    const owner = errorBodyOwner(error);
    if (owner === undefined || owner === this.config) return this.shape(error);
    const responder = RESPONDERS.get(owner);
    // No responder (a store's own settings): the body its owner gave it stands.
    return responder ? responder.shape(error) : Promise.resolve(error);
  }

  private async shape(error: JwtExtendedException): Promise<HttpException> {
    applyErrorBody(error, this.config);
    const shaper = this.responders.find(({ handles }) => handles.some((type) => error instanceof type));
    if (!shaper) return error;
    const { role } = shaper;
    try {
      const response = await settleLoader(shaper.respond(error), role, this.config.loaderTimeout);
      const refusal = refuse(response);
      // A loader may answer with a library exception of its own: it gets the module's body like any other.
      if (refusal === undefined) return applyErrorBody(response, this.config) as HttpException;
      logger.error(`The ${role} loader ${refusal}; the default response was sent`);
    } catch (failure) {
      // settleLoader has already logged a time-out.
      if (!(failure instanceof LoaderTimeoutException)) {
        const stack = failure instanceof Error ? failure.stack : undefined;
        logger.error(
          `The ${role} loader failed (${failure instanceof Error ? failure.message : describeValue(failure)}); the default response was sent`,
          stack,
        );
      }
    }
    return error;
  }
}
