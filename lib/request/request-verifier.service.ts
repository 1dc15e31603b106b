import { Inject, Injectable, type OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { ValidatedJwtRequiredOptions } from '../decorators/jwt-required-options.interface.js';
import {
  applyErrorBody,
  isDefaultErrorBody,
  FreshTokenRequiredException,
  NoAuthorizationException,
  RevokedTokenException,
  UserClaimsVerificationException,
  UserLookupException,
  WrongTokenException,
} from '../errors/exceptions.js';
import type { ResolvedLoaders } from '../loaders/jwt-extended-loaders.interface.js';
import { type MaybePromise, attempt, chain } from '../loaders/maybe-promise.js';
import type { BlocklistLoader, TokenVerificationLoader, UserLookupLoader } from '../loaders/verification-loaders.interface.js';
import type { RefreshTokenStore } from '../loaders/rotation-loaders.interface.js';
import { settleLoader } from '../loaders/settle-loader.js';
import { JWT_EXTENDED_CONFIG, JWT_EXTENDED_LOADERS } from '../config/injection-tokens.js';
import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import type { JwtHeader, JwtPayload, TokenLocation, VerifiedJwt } from '../tokens/jwt.interfaces.js';
import { TokenDecoder } from '../tokens/token-decoder.service.js';
import type { HttpRequestLike, HttpResponseLike } from './http-adapter.js';
import { addFastifyPreHandler } from './http-adapter.js';
import {
  type JwtRequestState,
  type StateMirrors,
  adoptJwtState,
  defaultLocations,
  fieldRequestOf,
  getJwtState,
  publishJwtState,
  setJwtState,
} from './jwt-request-state.js';
import { TokenExtractor } from './token-extractor.service.js';
import { tellReuse } from '../rotation/reuse-report.js';

function describeIdentity(identity: unknown): string {
  return typeof identity === 'object' && identity !== null ? JSON.stringify(identity) : String(identity);
}

/** A decoded token on its way through the checks after decoding (revocation, loaders). */
interface Checking {
  readonly options: ValidatedJwtRequiredOptions;
  readonly header: JwtHeader;
  readonly payload: JwtPayload;
  readonly context: { jwtHeader: JwtHeader; jwtPayload: JwtPayload };
  /**
   * Read from the payload just before the user lookup (without one, when publishing): the loaders
   * before it may have changed the payload (say, `sub` into a canonical form), and the identity follows them.
   */
  identity?: unknown;
  /** Set by the user lookup. */
  user: unknown;
}

/** A check after decoding: done when it returns, or when the promise it returns settles. */
type Check = (checking: Checking) => MaybePromise<void>;

/** A GraphQL field's verification, which the operation's later fields of the same protection share. */
interface FieldVerification {
  /** The field that verifies: its state is copied to the others. */
  view: HttpRequestLike;
  verification: Promise<VerifiedJwt | null>;
}

/** Flask's `verify_jwt_in_request`: find, decode and check the token, then load the user. */
@Injectable()
export class RequestVerifier implements OnModuleInit {
  private readonly userLookupConfigured: boolean;
  private readonly mirrors: StateMirrors;
  /** The refresh-token families, when refresh tokens rotate: their tokens are refused once the family is revoked. */
  private readonly families?: RefreshTokenStore;
  /**
   * The module asks for the bodies exceptions already have and is the app's only one: no need
   * to catch and rethrow. Next to another module, its exceptions must name their owner.
   */
  private defaultErrorBody: boolean;
  /**
   * Per GraphQL request, the verification of each protection under way or done: sibling fields
   * (N aliases of one field) start before any has finished, and share it instead of verifying N times.
   */
  private readonly fieldVerifications = new WeakMap<HttpRequestLike, Map<ValidatedJwtRequiredOptions, FieldVerification>>();
  /** The checks after decoding, in order, for the loaders this module has: chosen once, here. */
  private readonly checks: readonly Check[];

  constructor(
    @Inject(JWT_EXTENDED_CONFIG) private readonly config: JwtExtendedConfig,
    @Inject(JWT_EXTENDED_LOADERS) private readonly loaders: ResolvedLoaders,
    private readonly extractor: TokenExtractor,
    private readonly decoder: TokenDecoder,
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.userLookupConfigured = Boolean(loaders.userLookup);
    this.mirrors = { user: this.userLookupConfigured, viewLocals: config.exposeCurrentUserToViews };
    this.defaultErrorBody = isDefaultErrorBody(config);
    this.families = config.refreshTokenRotation ? loaders.refreshTokenStore : undefined;
    const { blocklist, tokenVerification, userLookup } = loaders;
    const families = this.families;
    this.checks = [
      blocklist && ((checking: Checking) => this.checkRevoked(blocklist, checking)),
      families && ((checking: Checking) => this.checkFamily(families, checking)),
      tokenVerification && ((checking: Checking) => this.checkTokenVerification(tokenVerification, checking)),
      userLookup && ((checking: Checking) => this.loadUser(userLookup, checking)),
    ].filter((check) => check !== undefined);
  }

  /**
   * Every module's providers exist by now. With another JwtExtendedModule in the app, its
   * JwtErrorFilter may catch this module's exceptions: they must carry their owner.
   * On Fastify, Nest middleware verifies the raw request: a hook before the guards hands that
   * state on to the FastifyRequest (`request.user`) and the reply (view locals). Only installed
   * when there is something to hand on.
   */
  onModuleInit(): void {
    if (this.defaultErrorBody) {
      this.defaultErrorBody = this.moduleRef.get(JWT_EXTENDED_CONFIG, { strict: false, each: true }).length === 1;
    }
    if (!this.mirrors.user && !this.mirrors.viewLocals) return;
    addFastifyPreHandler(this.adapterHost?.httpAdapter, (request, reply) => adoptJwtState(request, reply, this.mirrors));
  }

  /** The guard's response: its view locals follow this request's verifications from now on. */
  bindResponse(req: HttpRequestLike, res: HttpResponseLike): void {
    adoptJwtState(req, res, this.mirrors);
  }

  /** What a request without a token sees: fresh objects, so handlers never share them. */
  private emptyState(): JwtRequestState {
    return { header: {}, payload: {}, location: null, identity: null, user: null, userLookupConfigured: this.userLookupConfigured };
  }

  /**
   * A `@JwtPublic()` route: no token is read. The handler sees the "no token" state, or the
   * state middleware left with `verifyJwtInRequest` (§17: the handler then sees that state).
   */
  skip(req: HttpRequestLike): void {
    if (getJwtState(req)) return;
    // A public GraphQL field reads no token: its request keeps the operation's last verification.
    if (fieldRequestOf(req)) setJwtState(req, this.emptyState());
    else publishJwtState(req, this.emptyState(), this.mirrors);
  }

  /**
   * `options` come from `validateJwtRequiredOptions` (the decorator or `verifyJwtInRequest`):
   * nothing to normalise here. Failures are the library's exceptions, with the module's
   * `errorFormat` and `errorMessageKey` (applied here, where they leave the library; free
   * with the defaults). A promise only when a step is one: a cached token whose loaders answer
   * directly is verified at once (a failure is then thrown).
   */
  verify(req: HttpRequestLike, options: ValidatedJwtRequiredOptions): MaybePromise<VerifiedJwt | null> {
    const request = fieldRequestOf(req);
    return request ? this.verifyField(req, request, options) : this.verifyOnce(req, options);
  }

  private verifyOnce(req: HttpRequestLike, options: ValidatedJwtRequiredOptions): MaybePromise<VerifiedJwt | null> {
    if (this.defaultErrorBody) return this.verifyRequest(req, options);
    return attempt(
      () => this.verifyRequest(req, options),
      (error) => this.rethrowWithErrorBody(error),
    );
  }

  /**
   * A GraphQL field (`view` of `request`): the first field of a protection verifies, the others
   * await that verification (or its failure) and get their own copy of its state.
   */
  private async verifyField(
    view: HttpRequestLike,
    request: HttpRequestLike,
    options: ValidatedJwtRequiredOptions,
  ): Promise<VerifiedJwt | null> {
    let byOptions = this.fieldVerifications.get(request);
    if (!byOptions) this.fieldVerifications.set(request, (byOptions = new Map()));
    const shared = byOptions.get(options);
    if (!shared) {
      // A promise even when it failed at once: the sibling fields share that failure.
      const verification = new Promise<VerifiedJwt | null>((resolve) => resolve(this.verifyOnce(view, options)));
      byOptions.set(options, { view, verification });
      return verification;
    }
    const verified = await shared.verification;
    const state = getJwtState(shared.view)!;
    setJwtState(view, { ...state, header: { ...state.header }, payload: { ...state.payload } });
    return verified;
  }

  private rethrowWithErrorBody(error: unknown): never {
    throw applyErrorBody(error, this.config);
  }

  private verifyRequest(req: HttpRequestLike, options: ValidatedJwtRequiredOptions): MaybePromise<VerifiedJwt | null> {
    const refresh = options.refresh === true;
    const locations = options.locations ?? defaultLocations(req) ?? this.config.tokenLocation;
    const found = this.extractor.extract(req, locations, refresh ? 'refresh' : 'access');
    if ('missing' in found) {
      if (options.optional) {
        publishJwtState(req, this.emptyState(), this.mirrors);
        return null;
      }
      throw new NoAuthorizationException(found.missing);
    }
    const decoded = attempt(
      () => this.decoder.decode(found.token, { csrfValue: found.csrfValue }),
      (error) => {
        throw this.extractor.malformedHeader(found) ?? error;
      },
    );
    return chain(decoded, ({ header, payload }) => {
      const context = { jwtHeader: header, jwtPayload: payload };
      if (options.verifyType !== false) {
        const isRefresh = payload.type === 'refresh';
        if (refresh && !isRefresh) throw new WrongTokenException('Only refresh tokens are allowed', context);
        if (!refresh && isRefresh) throw new WrongTokenException('Only non-refresh tokens are allowed', context);
      }
      if (options.fresh && !this.isFresh(payload.fresh)) throw new FreshTokenRequiredException(context);
      const checking: Checking = { options, header, payload, context, user: undefined };
      const pending = this.runChecks(checking, 0);
      return pending ? pending.then(() => this.publish(req, found.location, checking)) : this.publish(req, found.location, checking);
    });
  }

  /** The checks from `from` on, in order: `undefined` when all answered at once, else a promise for the rest. */
  private runChecks(checking: Checking, from: number): Promise<void> | undefined {
    for (let i = from; i < this.checks.length; i++) {
      const pending = this.checks[i](checking);
      if (pending instanceof Promise) return pending.then(() => this.runChecks(checking, i + 1));
    }
    return undefined;
  }

  private publish(req: HttpRequestLike, location: TokenLocation, checking: Checking): VerifiedJwt {
    const { header, payload, user } = checking;
    const identity = this.userLookupConfigured ? checking.identity : payload[this.config.identityClaim];
    publishJwtState(req, { header, payload, location, identity, user, userLookupConfigured: this.userLookupConfigured }, this.mirrors);
    return { header, payload };
  }

  private checkRevoked(blocklist: BlocklistLoader, { options, header, payload, context }: Checking): MaybePromise<void> {
    if (options.skipRevocationCheck) return undefined;
    return chain(this.settle(blocklist.isTokenRevoked(header, payload), 'blocklist'), (revoked) => {
      if (revoked) throw new RevokedTokenException(context);
    });
  }

  /** Only tokens of a family (`fam`, set by rotation) cost a store lookup. */
  private checkFamily(families: RefreshTokenStore, { options, payload, context }: Checking): MaybePromise<void> {
    if (options.skipRevocationCheck || typeof payload.fam !== 'string') return undefined;
    return this.checkFamilyToken(families, payload, context);
  }

  private checkTokenVerification(loader: TokenVerificationLoader, { header, payload, context }: Checking): MaybePromise<void> {
    return chain(this.settle(loader.verifyToken(header, payload), 'tokenVerification'), (valid) => {
      if (!valid) throw new UserClaimsVerificationException(context);
    });
  }

  private loadUser(loader: UserLookupLoader, checking: Checking): MaybePromise<void> {
    checking.identity = checking.payload[this.config.identityClaim];
    return chain(this.settle(loader.lookupUser(checking.header, checking.payload), 'userLookup'), (user) => {
      if (user === null || user === undefined) {
        throw new UserLookupException(`Error loading the user ${describeIdentity(checking.identity)}`, checking.context);
      }
      checking.user = user;
    });
  }

  /**
   * One store call: a revoked family refuses all its tokens; a consumed refresh token (outside the
   * grace window) is reuse, even on a route that does not rotate: the store revokes the family and
   * the `refreshTokenReuse` loader is told.
   */
  private async checkFamilyToken(
    families: RefreshTokenStore,
    payload: JwtPayload,
    context: ConstructorParameters<typeof RevokedTokenException>[0],
  ): Promise<void> {
    const { fam, jti } = payload as { fam: string; jti?: unknown };
    if (typeof jti !== 'string') throw new RevokedTokenException(context);
    const type = payload.type === 'refresh' ? 'refresh' : 'access';
    const status = await this.settle(families.checkFamilyToken({ family: fam, jti, type }), 'refreshTokenStore');
    if (status === 'active') return;
    if (status === 'reuse') await tellReuse(this.loaders.refreshTokenReuse, payload, this.config.loaderTimeout);
    throw new RevokedTokenException(context);
  }

  /** Fresh only when exactly `true`, or a finite timestamp still in the future. */
  private isFresh(fresh: unknown): boolean {
    if (fresh === true) return true;
    return typeof fresh === 'number' && Number.isFinite(fresh) && fresh > Date.now() / 1000;
  }

  private settle<T>(result: T | Promise<T>, role: string): T | Promise<T> {
    return settleLoader(result, role, this.config.loaderTimeout);
  }
}
