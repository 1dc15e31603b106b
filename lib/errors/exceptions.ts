import { STATUS_CODES } from 'node:http';
import { HttpException, HttpStatus } from '@nestjs/common';
import type { JwtErrorFormat } from '../config/jwt-extended-options.interface.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';

/** The stable `code` of each library exception: match on it rather than on the message. */
export type JwtErrorCode =
  | 'NO_AUTHORIZATION'
  | 'INVALID_HEADER'
  | 'INVALID_QUERY_PARAM'
  | 'CSRF'
  | 'EXPIRED'
  | 'WRONG_TOKEN_TYPE'
  | 'FRESH_REQUIRED'
  | 'REVOKED'
  | 'CLAIMS_VERIFICATION_FAILED'
  | 'USER_LOOKUP_FAILED'
  | 'INVALID_TOKEN'
  | 'UNAVAILABLE';

/** The body of a library exception with `errorFormat: 'nest'`, the shape of Nest's own exceptions. */
export interface NestErrorBody {
  statusCode: number;
  message: string;
  /** The status phrase: `Unauthorized`, `Unprocessable Entity`, `Service Unavailable`, … */
  error: string;
  code: JwtErrorCode;
}

export interface JwtExceptionOptions {
  /** Header of the token, where one was decoded. */
  jwtHeader?: JwtHeader;
  /** Payload of the token, where one was decoded. */
  jwtPayload?: JwtPayload;
  /**
   * Key of the message in a `'flask'` body. Default: the module's `errorMessageKey`,
   * applied where the exception leaves the library (`applyErrorBody`), else `'msg'`.
   */
  messageKey?: string;
}

/** What decides a library exception's body: the module's `errorFormat` and `errorMessageKey`. */
export interface ErrorBodySettings {
  readonly errorFormat: JwtErrorFormat;
  readonly errorMessageKey: string;
}

// The body an exception has until applyErrorBody gives it the module's settings.
const DEFAULT_ERROR_BODY: ErrorBodySettings = { errorFormat: 'flask', errorMessageKey: 'msg' };

// Private: only applyErrorBody changes it after construction (the key only where none was given).
// `owner` is the settings it left the library with, so a filter of another module hands it back.
const BODY = Symbol('nestjs-jwt-extended.error-body');

/**
 * Base class of every error the library raises about a request or a token. The response
 * body is `{ [errorMessageKey]: message }` (`errorFormat: 'flask'`, the default) or
 * `{ statusCode, message, error, code }` (`'nest'`); `reason` is the bare message.
 */
export abstract class JwtExtendedException extends HttpException {
  /** Stable identifier of the situation, the same in both body formats. */
  abstract readonly code: JwtErrorCode;
  readonly reason: string;
  readonly jwtHeader?: JwtHeader;
  readonly jwtPayload?: JwtPayload;
  private [BODY]: { format: JwtErrorFormat; key: string; explicitKey: boolean; owner?: ErrorBodySettings };

  constructor(message: string, status: number, options: JwtExceptionOptions = {}) {
    super(message, status);
    this.reason = message;
    this.jwtHeader = options.jwtHeader;
    this.jwtPayload = options.jwtPayload;
    this[BODY] = {
      format: DEFAULT_ERROR_BODY.errorFormat,
      key: options.messageKey ?? DEFAULT_ERROR_BODY.errorMessageKey,
      explicitKey: options.messageKey !== undefined,
    };
    this.name = new.target.name;
  }

  /**
   * What a GraphQL response shows of this failure (graphql-js copies a thrown error's `extensions`
   * into `errors[i].extensions`): thrown by the guard, `verifyJwtInRequest` or `decodeToken` in a resolver.
   */
  get extensions(): JwtErrorExtensions {
    return errorExtensions(this);
  }

  /** The response body, in the module's `errorFormat`. */
  override getResponse(): Record<string, string> | NestErrorBody {
    const body = this[BODY];
    if (body.format === 'flask') return { [body.key]: this.reason };
    const statusCode = this.getStatus();
    return { statusCode, message: this.reason, error: STATUS_CODES[statusCode] ?? 'Error', code: this.code };
  }
}

/** `errors[i].extensions` of a GraphQL response that failed with an `HttpException`. */
export interface JwtErrorExtensions {
  /** What Nest's Apollo driver sets for its own `HttpException`s of that status. */
  code: string;
  /** The HTTP status the same failure has on a route. */
  status: number;
  /** The HTTP response body: the module's `errorFormat` and `errorMessageKey`, or an error loader's body. */
  originalError: unknown;
}

// @nestjs/apollo's mapping for HttpExceptions (others are INTERNAL_SERVER_ERROR there too), so
// library failures and Nest's own exceptions carry the same codes on both GraphQL drivers.
const GRAPHQL_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  422: 'BAD_USER_INPUT',
};

/** The GraphQL `extensions` of an `HttpException`: its status, a GraphQL error code, its HTTP body. */
export function errorExtensions(error: HttpException): JwtErrorExtensions {
  const status = error.getStatus();
  return { code: GRAPHQL_CODES[status] ?? 'INTERNAL_SERVER_ERROR', status, originalError: error.getResponse() };
}

/**
 * Gives a library exception the module's body format and `errorMessageKey` (the key only
 * unless its creator chose one). The one place they are applied: called where exceptions
 * leave the library (the request verifier, the service, the error responder, the stores),
 * so nothing inside threads them through.
 */
export function applyErrorBody(error: unknown, settings: ErrorBodySettings): unknown {
  if (error instanceof JwtExtendedException) {
    const body = error[BODY];
    body.format = settings.errorFormat;
    if (!body.explicitKey) body.key = settings.errorMessageKey;
    body.owner = settings;
  }
  return error;
}

/** The settings `error` left the library with (a module's configuration); none for one app code created. */
export function errorBodyOwner(error: JwtExtendedException): ErrorBodySettings | undefined {
  return error[BODY].owner;
}

/** True when `settings` give the bodies exceptions already have: applying them can be skipped. */
export function isDefaultErrorBody(settings: ErrorBodySettings): boolean {
  return settings.errorFormat === DEFAULT_ERROR_BODY.errorFormat && settings.errorMessageKey === DEFAULT_ERROR_BODY.errorMessageKey;
}

/** No token where one was expected (missing header, cookie, query parameter or JSON key). 401. */
export class NoAuthorizationException extends JwtExtendedException {
  readonly code = 'NO_AUTHORIZATION' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/** CSRF double-submit value missing or different from the token's `csrf` claim. 401. */
export class CsrfException extends JwtExtendedException {
  readonly code = 'CSRF' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/** The authorization header is present but malformed. 422. */
export class InvalidHeaderException extends JwtExtendedException {
  readonly code = 'INVALID_HEADER' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The query-string parameter is present but malformed. 422. */
export class InvalidQueryParamException extends JwtExtendedException {
  readonly code = 'INVALID_QUERY_PARAM' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The token is malformed, badly signed, or fails a claim check. 422. */
export class JwtDecodeException extends JwtExtendedException {
  readonly code = 'INVALID_TOKEN' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The token's `exp` has passed. 401. */
export class ExpiredTokenException extends JwtExtendedException {
  readonly code = 'EXPIRED' as const;
  constructor(options?: JwtExceptionOptions) {
    super('Token has expired', HttpStatus.UNAUTHORIZED, options);
  }
}

/** A refresh token where an access token is required, or the reverse. 422. */
export class WrongTokenException extends JwtExtendedException {
  readonly code = 'WRONG_TOKEN_TYPE' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNPROCESSABLE_ENTITY, options);
  }
}

/** The route needs a fresh token. 401. */
export class FreshTokenRequiredException extends JwtExtendedException {
  readonly code = 'FRESH_REQUIRED' as const;
  constructor(options?: JwtExceptionOptions) {
    super('Fresh token required', HttpStatus.UNAUTHORIZED, options);
  }
}

/** The blocklist says the token was revoked. 401. */
export class RevokedTokenException extends JwtExtendedException {
  readonly code = 'REVOKED' as const;
  constructor(options?: JwtExceptionOptions) {
    super('Token has been revoked', HttpStatus.UNAUTHORIZED, options);
  }
}

/** The `tokenVerification` loader returned false. 400. */
export class UserClaimsVerificationException extends JwtExtendedException {
  readonly code = 'CLAIMS_VERIFICATION_FAILED' as const;
  constructor(options?: JwtExceptionOptions) {
    super('User claims verification failed', HttpStatus.BAD_REQUEST, options);
  }
}

/** The `userLookup` loader found no user. 401. */
export class UserLookupException extends JwtExtendedException {
  readonly code = 'USER_LOOKUP_FAILED' as const;
  constructor(message: string, options?: JwtExceptionOptions) {
    super(message, HttpStatus.UNAUTHORIZED, options);
  }
}

/**
 * Something the library depends on did not answer (a loader past `loaderTimeout`, a
 * revocation store, a key set): the request fails closed. 503.
 */
export class JwtUnavailableException extends JwtExtendedException {
  readonly code = 'UNAVAILABLE' as const;
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
