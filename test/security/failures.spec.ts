import { HttpException, Injectable, type Type } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { BlocklistLoader, DecodeKeyLoader, JwtExtendedLoaders, TokenVerificationLoader, UserLookupLoader } from '../../lib/index.js';
import { ADAPTERS, RecordingLogger, SECRET, useTestApp } from '../support/app.js';
import { INTERNAL_ERROR, bearer, expectResponse } from '../support/http.js';
import { TargetController } from '../support/routes.js';

type Mode = 'throws' | 'rejects' | 'never settles' | 'throws HttpException';

function behave(mode: Mode): never | Promise<never> {
  switch (mode) {
    case 'throws':
      throw new Error('loader exploded');
    case 'rejects':
      return Promise.reject(new Error('loader rejected'));
    case 'never settles':
      return new Promise<never>(() => {});
    case 'throws HttpException':
      throw new HttpException({ msg: 'teapot' }, 418);
  }
}

function failingLoader(mode: Mode): Type {
  @Injectable()
  class Failing implements BlocklistLoader, TokenVerificationLoader, UserLookupLoader, DecodeKeyLoader {
    isTokenRevoked() {
      return behave(mode);
    }
    verifyToken() {
      return behave(mode);
    }
    lookupUser() {
      return behave(mode);
    }
    decodeKey() {
      return behave(mode);
    }
  }
  return Failing;
}

/** How each failure answers: a loader's own HttpException as it is, anything else without its detail. */
const EXPECTED: Record<Mode, { status: number; body: object }> = {
  throws: { status: 500, body: INTERNAL_ERROR },
  rejects: { status: 500, body: INTERNAL_ERROR },
  'never settles': { status: 503, body: { msg: 'Service Unavailable' } },
  'throws HttpException': { status: 418, body: { msg: 'teapot' } },
};
const roles = ['blocklist', 'tokenVerification', 'userLookup', 'decodeKey'] as const;

describe.each(ADAPTERS)('failing loaders fail closed (%s)', (adapter) => {
  const cases = roles.flatMap((role) =>
    (['throws', 'rejects', 'never settles', 'throws HttpException'] as Mode[]).map((mode) => [role, mode] as const),
  );
  describe.each(cases)('%s loader that %s', (role, mode) => {
    const logger = new RecordingLogger();
    const loaders: JwtExtendedLoaders = { [role]: failingLoader(mode) };
    const t = useTestApp(adapter, { controllers: [TargetController], loaders, options: { loaderTimeout: 150, secretKey: SECRET }, logger });

    it(`answers ${EXPECTED[mode].status}, never runs the handler, never logs the token`, async () => {
      const token = await t.jwt.createAccessToken('victim');
      const res = await expectResponse(
        request(t.url).get('/protected').set(bearer(token)),
        EXPECTED[mode].status,
        EXPECTED[mode].body,
        [],
        {
          hides: token,
        },
      );
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
      expect(logger.lines.join('\n')).not.toContain(token);
      if (mode === 'throws' || mode === 'rejects') expect(logger.lines.join('\n')).toMatch(/loader (exploded|rejected)/);
    });
  });
});
