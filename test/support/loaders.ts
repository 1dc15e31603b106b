import { Injectable } from '@nestjs/common';
import type {
  BlocklistLoader,
  JwtPayload,
  JwtProtectedHeader,
  TokenVerificationLoader,
  UserLookupLoader,
} from '../../lib/index.js';

/**
 * The three checking loaders, each failing for one subject: 'revoked' is revoked, 'unverified'
 * fails claims verification, 'ghost' has no user. Every other subject passes.
 */
@Injectable()
export class SubjectChecks implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader {
  isTokenRevoked(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'revoked';
  }
  verifyToken(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub !== 'unverified';
  }
  lookupUser(_h: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'ghost' ? null : { id: payload.sub };
  }
}

/** A blocklist loader that never answers: only loaderTimeout ends the wait. */
@Injectable()
export class HangingBlocklist implements BlocklistLoader {
  isTokenRevoked(): Promise<boolean> {
    return new Promise(() => {});
  }
}

/** The users Alice and Bob, looked up by subject; anyone else is unknown (null). */
const USERS: Record<string, { name: string }> = { alice: { name: 'Alice' }, bob: { name: 'Bob' } };

@Injectable()
export class Users implements UserLookupLoader {
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    return USERS[String(payload.sub)] ?? null;
  }
}
