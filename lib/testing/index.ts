// Sub-path export `nestjs-jwt-extended/testing`: tokens and headers for an app's tests.
export { JwtTestKit } from './jwt-test-kit.js';
export type { TestHeaders } from './jwt-test-kit.js';
