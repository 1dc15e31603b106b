import { Inject, Injectable } from '@nestjs/common';
import { type SetCookieOptions, type UnsetCookieOptions, CookieWriter } from '../cookies/cookie-writer.service.js';
import type { JwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import { validateJwtRequiredOptions } from '../decorators/jwt-required.decorator.js';
import { JwtDecodeException, applyErrorBody } from '../errors/exceptions.js';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { KeyRing, type PublicJwks } from '../keys/key-ring.js';
import type { HttpRequestLike, HttpResponseLike } from '../request/http-adapter.js';
import { requireJwtState } from '../request/jwt-request-state.js';
import { RequestVerifier } from '../request/request-verifier.service.js';
import { handshakeRequest, toWsException } from '../request/contexts/ws-context.js';
import { RefreshRotation, type RotateRefreshTokenOptions, type RotatedTokens } from '../rotation/refresh-rotation.service.js';
import { type UnverifiedToken, own } from '../tokens/compact-token.js';
import type { JwtHeader, JwtPayload, TokenLocation, VerifiedJwt } from '../tokens/jwt.interfaces.js';
import { type DecodeTokenOptions, TokenDecoder } from '../tokens/token-decoder.service.js';
import { type CreateAccessTokenOptions, type CreateRefreshTokenOptions, TokenSigner } from '../tokens/token-signer.service.js';

/**
 * Everything Flask-JWT-Extended offers as functions: creating and decoding tokens,
 * reading the verified JWT of a request, and the cookie helpers.
 */
@Injectable()
export class JwtExtendedService {
  /** @internal Created by the module. */
  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    private readonly signer: TokenSigner,
    private readonly decoder: TokenDecoder,
    private readonly verifier: RequestVerifier,
    private readonly cookies: CookieWriter,
    private readonly keyRing: KeyRing,
    private readonly rotation: RefreshRotation,
  ) {}

  /**
   * The public keys tokens of this module are verified with, as a JWKS: the current signing key's
   * public half and the asymmetric `verificationKeys`, each with `kid`, `alg` and `use: 'sig'`.
   * Never a private key or an HS* secret. What the `jwksPath` route serves.
   */
  getPublicJwks(): PublicJwks {
    return this.keyRing.publicJwks();
  }

  /** Flask `create_access_token`. */
  createAccessToken(identity: unknown, options?: CreateAccessTokenOptions): Promise<string> {
    return this.signer.createAccessToken(identity, options);
  }

  /** Flask `create_refresh_token`. With `refreshTokenRotation`, the token starts a family (its `fam` claim). */
  async createRefreshToken(identity: unknown, options?: CreateRefreshTokenOptions): Promise<string> {
    try {
      return await this.rotation.createRefreshToken(identity, options);
    } catch (error) {
      throw applyErrorBody(error, this.config);
    }
  }

  /**
   * Refresh-token rotation (`refreshTokenRotation`), in a `@JwtRequired({ refresh: true })` handler:
   * consumes the request's refresh token and resolves a new access token and the refresh token that
   * replaces it, both of its family. A consumed token presented again is reuse (outside
   * `reuseInterval`): the family is revoked and this rejects with 401 `Token has been revoked`.
   */
  async rotateRefreshToken(request: object, options?: RotateRefreshTokenOptions): Promise<RotatedTokens> {
    try {
      return await this.rotation.rotate(request, options);
    } catch (error) {
      throw applyErrorBody(error, this.config);
    }
  }

  /** Logout of one refresh-token family (the `fam` claim): its access and refresh tokens are refused from now on. */
  async revokeRefreshFamily(familyId: string): Promise<void> {
    try {
      await this.rotation.revokeFamily(familyId);
    } catch (error) {
      throw applyErrorBody(error, this.config);
    }
  }

  /** Flask `decode_token`: verifies signature and claims; throws the library's exceptions. */
  async decodeToken<Claims extends object = Record<string, unknown>>(
    token: string,
    options?: DecodeTokenOptions,
  ): Promise<JwtPayload<Claims>> {
    try {
      return (await this.decoder.decode<Claims>(token, options)).payload;
    } catch (error) {
      throw applyErrorBody(error, this.config);
    }
  }

  /** Flask `get_unverified_jwt_headers`: the header, NOT verified. */
  getUnverifiedJwtHeaders(token: string): JwtHeader {
    return this.parseUnverified(token).header;
  }

  /** Flask `get_jti`: the `jti` claim, NOT verified; `null` when absent. */
  getJti(token: string): string | null {
    const jti = own(this.parseUnverified(token).payload, 'jti');
    return typeof jti === 'string' ? jti : null;
  }

  /** Flask `get_csrf_token`: the `csrf` claim of a token you just created (NOT verified). */
  getCsrfToken(token: string): string {
    const csrf = own(this.parseUnverified(token).payload, 'csrf');
    if (typeof csrf !== 'string') throw applyErrorBody(new JwtDecodeException('Missing claim: csrf'), this.config);
    return csrf;
  }

  private parseUnverified(token: string): UnverifiedToken {
    try {
      return this.decoder.parseUnverified(token);
    } catch (error) {
      throw applyErrorBody(error, this.config);
    }
  }

  /** Flask `set_access_cookies`: the token cookie (HttpOnly) and, with CSRF protection, the readable CSRF cookie. */
  setAccessCookies(response: HttpResponseLike, token: string, options?: SetCookieOptions): void {
    this.cookies.setTokenCookies(response, 'access', token, this.csrfOf(token), options);
  }

  /** Flask `set_refresh_cookies`. */
  setRefreshCookies(response: HttpResponseLike, token: string, options?: SetCookieOptions): void {
    this.cookies.setTokenCookies(response, 'refresh', token, this.csrfOf(token), options);
  }

  /** Flask `unset_jwt_cookies`: expires the access and refresh cookies (and their CSRF cookies). */
  unsetJwtCookies(response: HttpResponseLike, options?: UnsetCookieOptions): void {
    this.unsetAccessCookies(response, options);
    this.unsetRefreshCookies(response, options);
  }

  /** Flask `unset_access_cookies`. */
  unsetAccessCookies(response: HttpResponseLike, options?: UnsetCookieOptions): void {
    this.cookies.unsetTokenCookies(response, 'access', options);
  }

  /** Flask `unset_refresh_cookies`. */
  unsetRefreshCookies(response: HttpResponseLike, options?: UnsetCookieOptions): void {
    this.cookies.unsetTokenCookies(response, 'refresh', options);
  }

  /**
   * Flask `verify_jwt_in_request`: what `@JwtRequired()` does, callable anywhere a request is
   * at hand — a handler, a custom guard, or Nest middleware (on Fastify too, where middleware
   * gets the raw request: the handler sees the same state). Resolves `null` for an optional
   * request without a token. Each call replaces the request's whole state: `getJwt`,
   * `getCurrentUser`, `request.user` and the view locals then describe this call's token.
   * Rejects with a `TypeError` for options `@JwtRequired()` would refuse; otherwise errors are
   * the library's exceptions, which error loaders shape when they reach Nest.
   */
  async verifyJwtInRequest<Claims extends object = Record<string, unknown>>(
    request: object,
    options?: JwtRequiredOptions,
  ): Promise<VerifiedJwt<Claims> | null> {
    const validated = validateJwtRequiredOptions(options, 'verifyJwtInRequest()');
    return (await this.verifier.verify(request as HttpRequestLike, validated)) as VerifiedJwt<Claims> | null;
  }

  /**
   * `verifyJwtInRequest` for a WebSocket connection, in a gateway's `handleConnection(client)`:
   * verifies the token of the client's handshake (header or socket.io `auth.token`, query,
   * cookie from an origin in `wsAllowedOrigins`, following `tokenLocation`) and resolves the
   * verified token (`null` for an optional one without token). Options as `verifyJwtInRequest`
   * (a `TypeError` for ones `@JwtRequired()` would refuse); failures are `WsException`s whose
   * error is `{ status, [errorMessageKey]: message }`, shaped by error loaders. With the `ws`
   * adapter, call `rememberHandshake(client, request)` first.
   */
  async verifyJwtInHandshake<Claims extends object = Record<string, unknown>>(
    client: object,
    options?: JwtRequiredOptions,
  ): Promise<VerifiedJwt<Claims> | null> {
    const validated = validateJwtRequiredOptions(options, 'verifyJwtInHandshake()');
    const request = handshakeRequest(client, this.config);
    try {
      return (await this.verifier.verify(request, validated)) as VerifiedJwt<Claims> | null;
    } catch (error) {
      throw await toWsException(error, this.config);
    }
  }

  /** Flask `get_jwt`: the verified payload (`{}` after an optional request without token). */
  getJwt<Claims extends object = Record<string, unknown>>(request: object): JwtPayload<Claims> {
    return requireJwtState(request as HttpRequestLike).payload as JwtPayload<Claims>;
  }

  /** Flask `get_jwt_header`. */
  getJwtHeader(request: object): JwtHeader {
    return requireJwtState(request as HttpRequestLike).header;
  }

  /** Flask `get_jwt_identity`: the identity claim (`null` without token). */
  getJwtIdentity<Identity = unknown>(request: object): Identity {
    return requireJwtState(request as HttpRequestLike).identity as Identity;
  }

  /** Flask `get_jwt_request_location`. */
  getJwtRequestLocation(request: object): TokenLocation | null {
    return requireJwtState(request as HttpRequestLike).location;
  }

  /** Flask `get_current_user`: what the `userLookup` loader returned (`null` without token). */
  getCurrentUser<User = unknown>(request: object): User {
    return currentUserOf(request) as User;
  }

  private csrfOf(token: string): string | undefined {
    if (!this.config.cookieCsrfProtect) return undefined;
    return this.getCsrfToken(token);
  }
}

/** The loaded user of a verified request; an error when no `userLookup` loader is configured. */
export function currentUserOf(request: object): unknown {
  const state = requireJwtState(request as HttpRequestLike);
  if (!state.userLookupConfigured) {
    throw new Error('The current user needs a userLookup loader: configure loaders.userLookup in JwtExtendedModule');
  }
  return state.user;
}
