import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { JWT_EXTENDED_LOADERS } from '../module/constants.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import {
  CsrfException,
  ExpiredTokenException,
  FreshTokenRequiredException,
  InvalidHeaderException,
  InvalidQueryParamException,
  type JwtExtendedException,
  JwtDecodeException,
  NoAuthorizationException,
  RevokedTokenException,
  UserClaimsVerificationException,
  UserLookupException,
  WrongTokenException,
} from './exceptions.js';

type Respond = (loaders: ResolvedLoaders, error: JwtExtendedException) => HttpException | Promise<HttpException> | undefined;

const header = (e: JwtExtendedException) => (e.jwtHeader ?? {}) as JwtHeader;
const payload = (e: JwtExtendedException) => (e.jwtPayload ?? {}) as JwtPayload;

/** Which error-response loader shapes which exception (Flask's default callbacks, by class). */
const RESPONDERS: [abstract new (...args: never[]) => JwtExtendedException, Respond][] = [
  [NoAuthorizationException, (l, e) => l.unauthorized?.onUnauthorized(e.reason)],
  [CsrfException, (l, e) => l.unauthorized?.onUnauthorized(e.reason)],
  [InvalidHeaderException, (l, e) => l.invalidToken?.onInvalidToken(e.reason)],
  [InvalidQueryParamException, (l, e) => l.invalidToken?.onInvalidToken(e.reason)],
  [JwtDecodeException, (l, e) => l.invalidToken?.onInvalidToken(e.reason)],
  [WrongTokenException, (l, e) => l.invalidToken?.onInvalidToken(e.reason)],
  [ExpiredTokenException, (l, e) => l.expiredToken?.onExpiredToken(header(e), payload(e))],
  [FreshTokenRequiredException, (l, e) => l.needsFreshToken?.onNeedsFreshToken(header(e), payload(e))],
  [RevokedTokenException, (l, e) => l.revokedToken?.onRevokedToken(header(e), payload(e))],
  [UserClaimsVerificationException, (l, e) => l.tokenVerificationFailed?.onTokenVerificationFailed(header(e), payload(e))],
  [UserLookupException, (l, e) => l.userLookupError?.onUserLookupError(header(e), payload(e))],
];

/** Turns a library exception into the response an error loader asks for (or leaves it as is). */
@Injectable()
export class ErrorResponder {
  readonly hasErrorLoaders: boolean;

  constructor(@Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders) {
    const l = loaders;
    this.hasErrorLoaders = Boolean(
      l.unauthorized ||
      l.invalidToken ||
      l.expiredToken ||
      l.needsFreshToken ||
      l.revokedToken ||
      l.tokenVerificationFailed ||
      l.userLookupError,
    );
  }

  async toResponse(error: JwtExtendedException): Promise<HttpException> {
    if (!this.hasErrorLoaders) return error;
    const respond = RESPONDERS.find(([type]) => error instanceof type)?.[1];
    const response = await respond?.(this.loaders, error);
    if (response === undefined) return error;
    if (!(response instanceof HttpException)) {
      throw new TypeError(`An error-response loader returned ${typeof response}; it must return an HttpException`);
    }
    return response;
  }
}
