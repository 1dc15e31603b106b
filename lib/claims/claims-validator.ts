import type { JwtExtendedConfig } from '../config/jwt-extended-config.js';
import { JwtDecodeException } from '../errors/exceptions.js';
import type { JwtHeader, JwtPayload } from '../tokens/jwt.interfaces.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/** The `claimsSchema` option: any Standard Schema v1 (zod, valibot, arktype, …) whose output is an object of claims. */
export type ClaimsSchema = StandardSchemaV1<unknown, object>;

/** The claims a schema produces, for `JwtPayload<ClaimsOf<typeof schema>>` and `@Jwt<ClaimsOf<typeof schema>>('claim')`. */
export type ClaimsOf<Schema extends StandardSchemaV1> = StandardSchemaV1.InferOutput<Schema>;

/** Registered claims the library checks and reads itself (with the identity claim): a schema may check them, never change them. */
const LIBRARY_CLAIMS = ['type', 'fresh', 'jti', 'iat', 'nbf', 'exp', 'aud', 'iss', 'csrf', 'sub'];

function describeIssue({ path, message }: StandardSchemaV1.Issue): string {
  const where = (path ?? []).map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment)).join('.');
  return where === '' ? message : `${where}: ${message}`;
}

/** `Invalid claims: <path>: <issue>`, issues joined by `; `. */
function invalidClaimsMessage(issues: readonly StandardSchemaV1.Issue[]): string {
  return `Invalid claims: ${issues.map(describeIssue).join('; ')}`;
}

/**
 * `createAccessToken` / `createRefreshToken` reject with this when the token's claims do not
 * pass `claimsSchema`: no token is made that every request would refuse. `issues` are the
 * schema's own.
 */
export class ClaimsValidationError extends TypeError {
  override readonly name = 'ClaimsValidationError';

  constructor(readonly issues: readonly StandardSchemaV1.Issue[]) {
    super(invalidClaimsMessage(issues));
  }
}

/** Runs `claimsSchema` on decoded payloads (after signature and registered claims) and on the payloads of new tokens. */
export class ClaimsValidator {
  private readonly libraryClaims: readonly string[];

  private constructor(
    private readonly schema: ClaimsSchema,
    identityClaim: string,
  ) {
    this.libraryClaims = [...new Set([...LIBRARY_CLAIMS, identityClaim])];
  }

  /** `undefined` without a `claimsSchema`: the decoder and signer then skip it for free. */
  static for(config: JwtExtendedConfig): ClaimsValidator | undefined {
    return config.claimsSchema && new ClaimsValidator(config.claimsSchema, config.identityClaim);
  }

  /**
   * A verified payload through the schema: 422 `Invalid claims: …` (a `JwtDecodeException`, so the
   * `invalidToken` loader shapes it) on issues. The schema's output replaces the claims it returns;
   * claims it leaves out (zod's `z.object` strips unknown keys) and the library's own claims stay
   * as verified, so identity, type, lifetime and CSRF checks never depend on a transform.
   */
  async decoded(header: JwtHeader, payload: JwtPayload): Promise<JwtPayload> {
    const result = await this.run(payload);
    if (result.issues) throw new JwtDecodeException(invalidClaimsMessage(result.issues), { jwtHeader: header, jwtPayload: payload });
    const checked: Record<string, unknown> = { ...payload, ...result.value };
    for (const claim of this.libraryClaims) {
      if (Object.hasOwn(payload, claim)) checked[claim] = payload[claim];
      else delete checked[claim];
    }
    return checked as JwtPayload;
  }

  /** The claims of a token being created, as the decoder will see them: rejects with `ClaimsValidationError`. */
  async created(payload: Record<string, unknown>): Promise<void> {
    const result = await this.run(payload);
    if (result.issues) throw new ClaimsValidationError(result.issues);
  }

  private async run(payload: object): Promise<StandardSchemaV1.Result<object>> {
    // A copy: a schema that writes to its input never touches the verified payload.
    const result = await this.schema['~standard'].validate({ ...payload });
    if (!result.issues && (typeof result.value !== 'object' || result.value === null || Array.isArray(result.value))) {
      throw new TypeError('claimsSchema must produce an object of claims (a schema of the whole payload, such as z.object({ … }))');
    }
    return result;
  }
}
