import { Injectable } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtDecodeException, type InvalidTokenLoader } from '../../lib/index.js';
import { ADAPTERS, createTestApp, type TestApp } from '../support/app.js';
import { TargetController } from '../support/routes.js';

/*
 * Finding (low): an error loader that answers with one of the library's own exceptions (a
 * natural way to change only the reason) gets a body keyed `msg`, not the module's
 * errorMessageKey: JwtErrorFilter applies the key to the exception it caught, not to the one the
 * loader returned. §6: every library error body is `{ [errorMessageKey]: message }`.
 */

@Injectable()
class Reworded implements InvalidTokenLoader {
  onInvalidToken(reason: string) {
    return new JwtDecodeException(`Rejected: ${reason}`);
  }
}

describe.each(ADAPTERS)('errorMessageKey and a library exception returned by an error loader (%s)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(adapter, {
      options: { errorMessageKey: 'error' },
      loaders: { invalidToken: Reworded },
      controllers: [TargetController],
    });
  });
  afterAll(() => t.close());

  it('the body is keyed by errorMessageKey', async () => {
    const res = await request(t.url).get('/protected').set('Authorization', 'Bearer not.a.token');
    expect({ status: res.status, keys: Object.keys(res.body) }).toEqual({ status: 422, keys: ['error'] });
  });
});

@Injectable()
class RewordedWithOwnKey implements InvalidTokenLoader {
  onInvalidToken(reason: string) {
    return new JwtDecodeException(`Rejected: ${reason}`, { messageKey: 'why' });
  }
}

describe.each(ADAPTERS)('the body of a library exception returned by an error loader (%s)', (adapter) => {
  it("follows errorFormat: 'nest'", async () => {
    const t = await createTestApp(adapter, {
      options: { errorFormat: 'nest' },
      loaders: { invalidToken: Reworded },
      controllers: [TargetController],
    });
    try {
      const res = await request(t.url).get('/protected').set('Authorization', 'Bearer not.a.token');
      expect({ status: res.status, body: res.body }).toEqual({
        status: 422,
        body: { statusCode: 422, message: 'Rejected: Invalid header string', error: 'Unprocessable Entity', code: 'INVALID_TOKEN' },
      });
    } finally {
      await t.close();
    }
  });

  it('keeps a message key the loader chose', async () => {
    const t = await createTestApp(adapter, {
      options: { errorMessageKey: 'error' },
      loaders: { invalidToken: RewordedWithOwnKey },
      controllers: [TargetController],
    });
    try {
      const res = await request(t.url).get('/protected').set('Authorization', 'Bearer not.a.token');
      expect({ status: res.status, body: res.body }).toEqual({ status: 422, body: { why: 'Rejected: Invalid header string' } });
    } finally {
      await t.close();
    }
  });
});
