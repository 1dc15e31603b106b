// Module and options
export { JwtExtendedModule } from './module/jwt-extended.module.js';
export type {
  JwtExtendedModuleAsyncOptions,
  JwtExtendedModuleExtras,
  JwtExtendedModuleOptions,
} from './module/jwt-extended.module-definition.js';
export type {
  CookieSameSite,
  JwtExtendedOptions,
  JwtErrorFormat,
  JwtExtendedOptionsFactory,
  DurationUnit,
  RefreshTokenRotationOptions,
  TokenLifetime,
  TrustedIssuer,
  VerificationKey,
} from './config/jwt-extended-options.interface.js';
export { JwtExtendedConfigError } from './config/config-error.js';
export { JWT_BLOCKLIST } from './config/injection-tokens.js';

// Service
export { JwtExtendedService } from './service/jwt-extended.service.js';
export type { CreateAccessTokenOptions, CreateRefreshTokenOptions } from './tokens/token-signer.service.js';
export type { DecodeTokenOptions } from './tokens/token-decoder.service.js';
export type { SetCookieOptions, UnsetCookieOptions } from './cookies/cookie-writer.service.js';
export type { PublicJwk, PublicJwks } from './keys/key-ring.js';

// Route protection
export { JwtGuard } from './guard/jwt.guard.js';
export type { HttpRequestLike, HttpResponseLike } from './request/http-adapter.js';
export { rememberHandshake } from './request/contexts/ws-context.js';
export type { WsHandshakeLike } from './request/contexts/ws-context.js';
export { JwtRequired } from './decorators/jwt-required.decorator.js';
export { JwtPublic } from './decorators/jwt-public.decorator.js';
export type { JwtRequiredOptions } from './decorators/jwt-required-options.interface.js';
export { CurrentUser, Jwt, JwtHeader, JwtIdentity, JwtLocation } from './decorators/jwt-params.decorators.js';
export type { JwtParamDecorator } from './decorators/jwt-params.decorators.js';

// Tokens
export type {
  AsymmetricAlgorithm,
  JsonWebKeyInput,
  JwtAlgorithm,
  JwtHeader as JwtProtectedHeader,
  JwtKey,
  JwtPayload,
  JwtRegisteredClaims,
  SymmetricAlgorithm,
  TokenLocation,
  VerifiedJwt,
} from './tokens/jwt.interfaces.js';

// Validated claims (`claimsSchema`)
export { ClaimsValidationError } from './claims/claims-validator.js';
export type { ClaimsOf, ClaimsSchema } from './claims/claims-validator.js';
export type { StandardSchemaV1 } from './claims/standard-schema.js';

// Loaders
export type { MaybePromise } from './loaders/maybe-promise.js';
export type { JwtExtendedLoaders } from './loaders/jwt-extended-loaders.interface.js';
export type {
  AdditionalClaimsLoader,
  AdditionalHeadersLoader,
  DecodeKeyLoader,
  EncodeKeyLoader,
  UserIdentityLoader,
} from './loaders/token-loaders.interface.js';
export type { BlocklistLoader, TokenVerificationLoader, UserLookupLoader } from './loaders/verification-loaders.interface.js';
export type {
  ExpiredTokenLoader,
  InvalidTokenLoader,
  NeedsFreshTokenLoader,
  RevokedTokenLoader,
  TokenVerificationFailedLoader,
  UnauthorizedLoader,
  UserLookupErrorLoader,
} from './loaders/error-loaders.interface.js';

// Errors
export {
  CsrfException,
  ExpiredTokenException,
  FreshTokenRequiredException,
  InvalidHeaderException,
  InvalidQueryParamException,
  JwtDecodeException,
  JwtExtendedException,
  JwtUnavailableException,
  LoaderTimeoutException,
  NoAuthorizationException,
  RevokedTokenException,
  UserClaimsVerificationException,
  UserLookupException,
  WrongTokenException,
} from './errors/exceptions.js';
export type { JwtErrorCode, JwtErrorExtensions, JwtExceptionOptions, NestErrorBody } from './errors/exceptions.js';
export { JwtErrorFilter } from './errors/jwt-error.filter.js';

// Ready blocklist stores (Redis: `nestjs-jwt-extended/redis`)
export { InMemoryBlocklist } from './blocklist/in-memory-blocklist.js';
export type { InMemoryBlocklistOptions } from './blocklist/in-memory-blocklist.js';
export type { RevocableToken, RevocationStore, RevocationStoreOptions } from './blocklist/revocation-store.interface.js';

// Refresh-token rotation (Redis store: `nestjs-jwt-extended/redis`)
export { InMemoryRefreshTokenStore } from './rotation/in-memory-refresh-token-store.js';
export type { RotateRefreshTokenOptions, RotatedTokens } from './rotation/refresh-rotation.service.js';
export type {
  FamilyRotation,
  FamilyToken,
  FamilyTokenStatus,
  RefreshTokenReuseLoader,
  RefreshTokenStore,
  RotationOutcome,
} from './loaders/rotation-loaders.interface.js';
