import type { JwtExtendedLoaders } from './jwt-extended-loaders.interface.js';

/**
 * How an error-response loader is called: with the §6 message (`reason`), or with the
 * decoded token's header and payload (`token`).
 */
export type ErrorLoaderArguments = 'reason' | 'token';

interface LoaderRoleSpec {
  /** The method the loader class must implement (checked at start-up). */
  readonly method: string;
  /** Present on error-response loaders: they shape the response of a library exception. */
  readonly errorResponse?: ErrorLoaderArguments;
}

/** Every loader role, once: its method, and whether (and how) it shapes error responses. */
export const LOADER_ROLES = {
  additionalClaims: { method: 'additionalClaims' },
  additionalHeaders: { method: 'additionalHeaders' },
  decodeKey: { method: 'decodeKey' },
  encodeKey: { method: 'encodeKey' },
  userIdentity: { method: 'userIdentity' },
  userLookup: { method: 'lookupUser' },
  blocklist: { method: 'isTokenRevoked' },
  tokenVerification: { method: 'verifyToken' },
  expiredToken: { method: 'onExpiredToken', errorResponse: 'token' },
  invalidToken: { method: 'onInvalidToken', errorResponse: 'reason' },
  needsFreshToken: { method: 'onNeedsFreshToken', errorResponse: 'token' },
  revokedToken: { method: 'onRevokedToken', errorResponse: 'token' },
  tokenVerificationFailed: { method: 'onTokenVerificationFailed', errorResponse: 'token' },
  unauthorized: { method: 'onUnauthorized', errorResponse: 'reason' },
  userLookupError: { method: 'onUserLookupError', errorResponse: 'token' },
  refreshTokenStore: { method: 'rotate' },
  refreshTokenReuse: { method: 'onRefreshTokenReuse' },
} as const satisfies Record<keyof JwtExtendedLoaders, LoaderRoleSpec>;

export type LoaderRole = keyof typeof LOADER_ROLES;

/** The roles whose loaders shape error responses. */
export type ErrorLoaderRole = {
  [R in LoaderRole]: (typeof LOADER_ROLES)[R] extends { errorResponse: ErrorLoaderArguments } ? R : never;
}[LoaderRole];

export function isLoaderRole(role: string): role is LoaderRole {
  return Object.hasOwn(LOADER_ROLES, role);
}

export function isErrorLoaderRole(role: LoaderRole): role is ErrorLoaderRole {
  return 'errorResponse' in LOADER_ROLES[role];
}
