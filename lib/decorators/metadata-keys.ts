/** Metadata key of `@JwtRequired()` options, read by `JwtGuard`. */
export const JWT_REQUIRED_METADATA = 'nestjs-jwt-extended:jwt-required';
