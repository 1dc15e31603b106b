/** Metadata key of `@JwtRequired()` options, read by `JwtGuard`. */
export const JWT_REQUIRED_METADATA = 'nestjs-jwt-extended:jwt-required';

/** Metadata key of `@JwtPublic()` (value `true`), read by `JwtGuard`. */
export const JWT_PUBLIC_METADATA = 'nestjs-jwt-extended:jwt-public';
