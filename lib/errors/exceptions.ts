import { HttpException, HttpStatus } from '@nestjs/common';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';

export interface JwtExceptionOptions {
  /** Header of the token, where one was decoded. */
  jwtHeader?: JwtHeader;
  /** Payload of the token, where one was decoded. */
  jwtPayload?: JwtPayload;
  /**
   * Key of the message in the response body. Default: the module's `errorMessageKey`,
   * applied where the exception leaves the library (`applyMessageKey`), else `'msg'`.
   */
  messageKey?: string;
}

// Private: only applyMessageKey sets it, and only where no key was given explicitly.
const MESSAGE_KEY = Symbol('nestjs-jwt-extended.message-key');

/**
 * Base class of every error the library raises about a request or a token.
 * The response body is `{ [errorMessageKey]: message }`; `reason` is the bare message.
 */
export abstract class JwtExtendedException extends HttpException {
  readonly reason: string;
  readonly jwtHeader?: JwtHeader;
  readonly jwtPayload?: JwtPayload;
  private [MESSAGE_KEY]: { key: string; explicit: boolean };

  constructor(message: string, status: number, options: JwtExceptionOptions = {}) {
    super(message, status);
    this.reason = message;
    this.jwtHeader = options.jwtHeader;
    this.jwtPayload = options.jwtPayload;
    this[MESSAGE_KEY] = { key: options.messageKey ?? 'msg', explicit: options.messageKey !== undefined };
    this.name = new.target.name;
  }

  /** The response body: `{ [errorMessageKey]: reason }`. */
  override getResponse(): Record<string, string> {
    return { [this[MESSAGE_KEY].key]: this.reason };
  }
}

/**
 * Gives a library exception the module's `errorMessageKey` (unless its creator chose one).
 * The one place the key is applied: called where exceptions leave the library (the request
 * verifier, the service, the error filter), so nothing inside threads the key through.
 */
export function applyMessageKey(error: unknown, key: string): unknown {
  if (error instanceof JwtExtendedException && !error[MESSAGE_KEY].explicit) error[MESSAGE_KEY].key = key;
  return error;
}

/** No token where one was expected (missing header, cookie, query parameter or JSON key). 401. */
export class NoAuthorizationException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/** CSRF double-submit value missing or different from the token's `csrf` claim. 401. */
export class CsrfException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/** The authorization header is present but malformed. 422. */
export class InvalidHeaderException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The query-string parameter is present but malformed. 422. */
export class InvalidQueryParamException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The token is malformed, badly signed, or fails a claim check. 422. */
export class JwtDecodeException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The token's `exp` has passed. 401. */
export class ExpiredTokenException extends JwtExtendedException {
  constructor(options?: JwtExceptionOptions) {
    super('Token has expired', HttpStatus.UNAUTHORIZED, options);
  }
}

/** A refresh token where an access token is required, or the reverse. 422. */
export class WrongTokenException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The route needs a fresh token. 401. */
export class FreshTokenRequiredException extends JwtExtendedException {
  constructor(options?: JwtExceptionOptions) {
    super('Fresh token required', HttpStatus.UNAUTHORIZED, options);
  }
}

/** The blocklist says the token was revoked. 401. */
export class RevokedTokenException extends JwtExtendedException {
  constructor(options?: JwtExceptionOptions) {
    super('Token has been revoked', HttpStatus.UNAUTHORIZED, options);
  }
}

/** The `tokenVerification` loader returned false. 400. */
export class UserClaimsVerificationException extends JwtExtendedException {
  constructor(options?: JwtExceptionOptions) {
    super('User claims verification failed', HttpStatus.BAD_REQUEST, options);
  }
}

/** The `userLookup` loader found no user. 401. */
export class UserLookupException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/**
 * Something the library depends on did not answer (a loader past `loaderTimeout`, a
 * revocation store, a key set): the request fails closed. 503.
 */
export class JwtUnavailableException extends JwtExtendedException {
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.SERVICE_UNAVAILABLE, options);
  }
}

/** A request-time loader did not answer within `loaderTimeout`: the request fails closed. 503. */
export class LoaderTimeoutException extends JwtUnavailableException {
  /** Which loader, and how long it had: for logs, never sent to the client. */
  readonly detail: string;
  constructor(role: string, timeoutMs: number, messageKey?: string) {
    super('Service Unavailable', { messageKey });
    this.detail = `The ${role} loader did not answer within ${timeoutMs} ms`;
  }
}
