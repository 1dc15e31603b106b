import type { INestApplication } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { createSampleApp } from '../../sample/create-app.js';
import type { SampleSettings } from '../../sample/app.module.js';
import { ADAPTERS, listenOnLoopback } from '../support/app.js';
import { forgeHmac, now } from '../support/forge.js';

const SECRET = 'sample-test-secret-of-32-bytes-or-more';

async function withSample<T>(adapter: 'express' | 'fastify', settings: SampleSettings, body: (base: string) => Promise<T>): Promise<T> {
  const app: INestApplication = await createSampleApp(adapter, settings, false);
  try {
    return await body(await listenOnLoopback(app));
  } finally {
    await app.close();
  }
}

async function login(base: string): Promise<string> {
  const res = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

const me = async (base: string, token: string) => {
  const res = await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as unknown };
};

const jwksKids = async (base: string) =>
  ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys.map((key) => key.kid);

describe.each(ADAPTERS)('sample key rotation (%s)', (adapter) => {
  const pem = () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    return {
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    };
  };
  const oldKey = pem();
  const newKey = pem();
  const alice = { status: 200, body: { username: 'alice', role: 'admin' } };

  it('rotates by configuration: new key current, old public key kept, old tokens valid until it is dropped', async () => {
    const [oldToken, oldKid] = await withSample(adapter, { secret: SECRET, privateKey: oldKey.privateKey }, async (base) => {
      const token = await login(base);
      expect(await me(base, token)).toEqual(alice);
      return [token, (await jwksKids(base))[0]] as const;
    });
    await withSample(adapter, { secret: SECRET, privateKey: newKey.privateKey, previousPublicKey: oldKey.publicKey }, async (base) => {
      expect(await me(base, oldToken)).toEqual(alice);
      expect(await me(base, await login(base))).toEqual(alice);
      const kids = await jwksKids(base);
      expect(kids).toHaveLength(2);
      expect(kids[1]).toBe(oldKid);
    });
    await withSample(adapter, { secret: SECRET, privateKey: newKey.privateKey }, async (base) => {
      expect(await me(base, oldToken)).toEqual({ status: 422, body: { msg: 'Unknown key id' } });
    });
  });

  it('HS256 tokens from before the move to a key pair are still accepted (no kid); a new key each start without JWT_PRIVATE_KEY', async () => {
    const legacy = forgeHmac(
      { alg: 'HS256', typ: 'JWT' },
      { sub: 'alice', role: 'admin', type: 'access', fresh: false, iat: now(), exp: now() + 60 },
      SECRET,
    );
    const first = await withSample(adapter, { secret: SECRET }, async (base) => {
      expect(await me(base, legacy)).toEqual(alice);
      return jwksKids(base);
    });
    expect(await withSample(adapter, { secret: SECRET }, jwksKids)).not.toEqual(first);
  });
});
