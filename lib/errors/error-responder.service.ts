import { HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import type { LoaderRole, ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
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
  type JwtExtendedException,
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

/** An error-response loader role: the exceptions it shapes, and how to call it. */
function responder<R extends LoaderRole>(
  role: R,
  handles: readonly ExceptionClass[],
  respond: (loader: NonNullable<ResolvedLoaders[R]>, error: JwtExtendedException) => MaybePromise<unknown>,
) {
  return {
    role,
    handles,
    bind(loaders: ResolvedLoaders): Respond | undefined {
      const loader = loaders[role];
      return loader && ((error) => respond(loader, error));
    },
  };
}

const header = (e: JwtExtendedException) => (e.jwtHeader ?? {}) as JwtHeader;
const payload = (e: JwtExtendedException) => (e.jwtPayload ?? {}) as JwtPayload;

/** Which error-response loader shapes which exceptions (Flask's default callbacks, by class). */
const RESPONDERS = [
  responder('unauthorized', [NoAuthorizationException, CsrfException], (l, e) => l.onUnauthorized(e.reason)),
  responder('invalidToken', [InvalidHeaderException, InvalidQueryParamException, JwtDecodeException, WrongTokenException], (l, e) =>
    l.onInvalidToken(e.reason),
  ),
  responder('expiredToken', [ExpiredTokenException], (l, e) => l.onExpiredToken(header(e), payload(e))),
  responder('needsFreshToken', [FreshTokenRequiredException], (l, e) => l.onNeedsFreshToken(header(e), payload(e))),
  responder('revokedToken', [RevokedTokenException], (l, e) => l.onRevokedToken(header(e), payload(e))),
  responder('tokenVerificationFailed', [UserClaimsVerificationException], (l, e) => l.onTokenVerificationFailed(header(e), payload(e))),
  responder('userLookupError', [UserLookupException], (l, e) => l.onUserLookupError(header(e), payload(e))),
];

/** The loader roles that shape error responses. */
export const ERROR_LOADER_ROLES: ReadonlySet<LoaderRole> = new Set(RESPONDERS.map((r) => r.role));

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

/** Turns a library exception into the response an error loader asks for (or leaves it as is). */
@Injectable()
export class ErrorResponder {
  /** Only the configured roles, resolved once. */
  private readonly responders: { role: LoaderRole; handles: readonly ExceptionClass[]; respond: Respond }[];

  constructor(
    @Inject(JWT_EXTENDED_LOADERS) loaders: ResolvedLoaders,
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
  ) {
    this.responders = RESPONDERS.flatMap(({ role, handles, bind }) => {
      const respond = bind(loaders);
      return respond ? [{ role, handles, respond }] : [];
    });
  }

  /**
   * The loader's `HttpException`, or `error` itself when no loader shapes it. Never
   * rejects: a loader that throws, rejects, answers after `loaderTimeout` or returns
   * something else than an `HttpException` is logged, and the default response stands.
   */
  async toResponse(error: JwtExtendedException): Promise<HttpException> {
    const shaper = this.responders.find(({ handles }) => handles.some((type) => error instanceof type));
    if (!shaper) return error;
    const { role } = shaper;
    try {
      const response = await settleLoader(shaper.respond(error), role, this.config.loaderTimeout, this.config.errorMessageKey);
      const refusal = refuse(response);
      if (refusal === undefined) return response as HttpException;
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
