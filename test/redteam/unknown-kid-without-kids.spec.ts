import { describe, it } from '@jest/globals';
import request from 'supertest';
import { ADAPTERS, SECRET, useTestApp } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';
import { bearer, expectResponse } from '../support/http.js';
import { TargetController } from '../support/routes.js';

/*
 * CONTRACT §11 (and README "Key rotation", SECURITY.md): "A token with a `kid` is verified with
 * the key of that `kid` (the current key or one of `verificationKeys`) … an unknown `kid` → 422
 * `Unknown key id`." An HS256 app with no `keyId` and no `verificationKeys` has no kid at all, so
 * every kid a token names is unknown. The decoder instead ignores the header when no kid is
 * configured (TokenDecoder.localKey: `!this.ring.usesKids`) and verifies the token with the
 * current secret: the kid is not "the key of that kid", it is silently dropped.
 */
describe.each(ADAPTERS)('a kid-less configuration and a token naming a kid (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [TargetController] });

  it.each(['some-other-key', 'previous', '__proto__'])('kid %s is an unknown key id: 422', async (kid) => {
    const token = forgeHmac({ alg: 'HS256', typ: 'JWT', kid }, { sub: 'mallory', iat: now(), exp: now() + 60 }, SECRET);
    await expectResponse(request(t.url).get('/protected').set(bearer(token)), 422, { msg: 'Unknown key id' }, []);
  });
});
