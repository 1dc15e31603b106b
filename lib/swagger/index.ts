// Sub-path export `nestjs-jwt-extended/swagger`: the OpenAPI document says what the guard enforces.
// Needs the optional peer @nestjs/swagger (types only).
export { JWT_ERROR_SCHEMA, JWT_SECURITY_SCHEMES, applyJwtSecurity } from './jwt-security.js';
export type { JwtSecurityOptions, OperationIdFactory } from './jwt-security.js';
