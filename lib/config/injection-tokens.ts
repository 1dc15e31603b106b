/** Injection token of the resolved, validated configuration (internal). */
export const JWT_EXTENDED_CONFIG = Symbol('JWT_EXTENDED_CONFIG');
/** Injection token of the resolved loader instances (internal). */
export const JWT_EXTENDED_LOADERS = Symbol('JWT_EXTENDED_LOADERS');
/** Injection token of the configured `loaders.blocklist` instance: `@Inject(JWT_BLOCKLIST) store: RevocationStore`. */
export const JWT_BLOCKLIST = Symbol('JWT_BLOCKLIST');
