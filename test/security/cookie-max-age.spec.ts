import { Controller, Param, Post, Res } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { JwtExtendedService, type SetCookieOptions } from '../../lib/index.js';
import { ADAPTERS, useTestApp } from '../support/app.js';

/** 400 days, the longest lifetime browsers keep a cookie (RFC 6265bis). */
const CAP = 34560000;

const REFUSED: Record<string, unknown> = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  negative: -1,
  'a half': 0.5,
  fractional: 59.9,
  '1e21': 1e21,
  'a numeric string': '60',
  'an empty string': '',
  null: null,
  'a bigint': BigInt(60),
  'just over 400 days': CAP + 1,
};
const ACCEPTED: Record<string, number> = { zero: 0, 'minus zero': -0, 'one second': 1, 'a minute': 60, '400 days': CAP };
const CASES: Record<string, unknown> = { ...REFUSED, ...ACCEPTED };

@Controller()
class CookieController {
  constructor(private readonly jwt: JwtExtendedService) {}

  /** Sets the access or refresh cookies with the case's maxAge; reports a refusal instead of failing. */
  @Post(':kind/:case')
  async set(@Param('kind') kind: string, @Param('case') name: string, @Res({ passthrough: true }) res: object) {
    const options = { maxAge: CASES[name] } as SetCookieOptions;
    try {
      if (kind === 'access') this.jwt.setAccessCookies(res, await this.jwt.createAccessToken('alice'), options);
      else this.jwt.setRefreshCookies(res, await this.jwt.createRefreshToken('alice'), options);
      return { set: true };
    } catch (error) {
      return { refused: (error as Error).name, message: (error as Error).message };
    }
  }
}

/** Max-Age and Expires of every Set-Cookie line. */
function lifetimes(setCookie: string[] | string | undefined) {
  const lines = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  return lines.map((line) => {
    const attribute = (name: string) => new RegExp(`; ${name}=([^;]*)`, 'i').exec(line)?.[1];
    return { maxAge: attribute('Max-Age'), expires: attribute('Expires') };
  });
}

describe.each(ADAPTERS)('cookie maxAge (%s)', (adapter) => {
  const t = useTestApp(adapter, { controllers: [CookieController] });

  describe.each(['access', 'refresh'])('%s cookies', (kind) => {
    it.each(Object.keys(REFUSED))('refuses %s with a TypeError, writing no cookie', async (name) => {
      const res = await request(t.url).post(`/${kind}/${encodeURIComponent(name)}`);
      expect(res.status).toBe(201);
      expect(res.body.refused).toBe('TypeError');
      expect(res.body.message).toMatch(/^maxAge must be a whole number of seconds from 0 to 34560000 \(400 days\), got /);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it.each(Object.entries(ACCEPTED))('accepts %s: that Max-Age and a valid Expires', async (name, maxAge) => {
      const sent = Date.now();
      const res = await request(t.url).post(`/${kind}/${encodeURIComponent(name)}`);
      const received = Date.now();
      expect({ status: res.status, body: res.body }).toEqual({ status: 201, body: { set: true } });
      const cookies = lifetimes(res.headers['set-cookie']);
      expect(cookies).toHaveLength(2); // the token cookie and its CSRF cookie
      for (const cookie of cookies) {
        expect(cookie.maxAge).toBe(String(Math.abs(maxAge)));
        const expires = new Date(String(cookie.expires)).getTime();
        expect(Number.isNaN(expires)).toBe(false);
        if (maxAge === 0) expect(expires).toBe(0);
        else {
          // Expires is the server's clock + maxAge in whole seconds (the date format has no
          // milliseconds), read between sending and receiving. Not "after now": one second from a
          // time late in its second is already past once the response crosses into the next one.
          expect(expires).toBeGreaterThanOrEqual(Math.floor(sent / 1000) * 1000 + maxAge * 1000);
          expect(expires).toBeLessThanOrEqual(received + maxAge * 1000);
        }
      }
    });
  });
});
