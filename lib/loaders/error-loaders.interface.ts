import type { HttpException } from '@nestjs/common';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import type { MaybePromise } from './maybe-promise.js';

/** Response for an expired token (Flask `expired_token_loader`). */
export interface ExpiredTokenLoader {
  onExpiredToken(header: JwtHeader, payload: JwtPayload): MaybePromise<HttpException>;
}

/** Response for every 422 (malformed token or header, wrong type…) (Flask `invalid_token_loader`). */
export interface InvalidTokenLoader {
  onInvalidToken(reason: string): MaybePromise<HttpException>;
}

/** Response when a fresh token is required (Flask `needs_fresh_token_loader`). */
export interface NeedsFreshTokenLoader {
  onNeedsFreshToken(header: JwtHeader, payload: JwtPayload): MaybePromise<HttpException>;
}

/** Response for a revoked token (Flask `revoked_token_loader`). */
export interface RevokedTokenLoader {
  onRevokedToken(header: JwtHeader, payload: JwtPayload): MaybePromise<HttpException>;
}

/** Response when `tokenVerification` returned false (Flask `token_verification_failed_loader`). */
export interface TokenVerificationFailedLoader {
  onTokenVerificationFailed(header: JwtHeader, payload: JwtPayload): MaybePromise<HttpException>;
}

/** Response when no token was found, or for a CSRF failure (Flask `unauthorized_loader`). */
export interface UnauthorizedLoader {
  onUnauthorized(reason: string): MaybePromise<HttpException>;
}

/** Response when `userLookup` found no user (Flask `user_lookup_error_loader`). */
export interface UserLookupErrorLoader {
  onUserLookupError(header: JwtHeader, payload: JwtPayload): MaybePromise<HttpException>;
}
