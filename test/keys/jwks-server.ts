import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import { afterAll, beforeAll } from '@jest/globals';
import { forgeAsymmetric, now } from '../support/forge.js';

/**
 * An identity provider's JWKS endpoint on 127.0.0.1: counts the requests it gets, serves
 * whatever document the test sets (keys, hostile bytes), and can go down (every connection is
 * cut before an answer).
 */
export class JwksServer {
  /** Requests received since the start (or the last `resetCount`). */
  count = 0;
  /** Down: connections are cut without an answer. */
  down = false;
  /** Hanging: requests are never answered (until the server stops). */
  hang = false;
  /** Answers with a redirect to this URL instead of the document. */
  redirectTo?: string;
  private document: string | Buffer = JSON.stringify({ keys: [] });
  private server?: Server;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.count++;
      if (this.down) {
        req.socket.destroy();
        return;
      }
      if (this.hang) return;
      if (this.redirectTo) {
        res.writeHead(302, { location: this.redirectTo }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(this.document);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  stop(): Promise<void> {
    this.server?.closeAllConnections();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The URL of the key set (`/<name>/jwks.json`: one server can play several issuers). */
  url(name = 'idp'): string {
    return `http://127.0.0.1:${this.port}/${name}/jwks.json`;
  }

  /** Serves these keys from now on. */
  setKeys(...keys: object[]): void {
    this.document = JSON.stringify({ keys });
  }

  /** Serves this exact document (anything: hostile bytes included). */
  setDocument(document: string | Buffer): void {
    this.document = document;
  }
}

/** A JWKS server for the enclosing describe block, started before its apps. */
export function useJwksServer(): JwksServer {
  const server = new JwksServer();
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  return server;
}

/** Which algorithm a signing key pair serves and how node:crypto signs for it. */
const SIGNING = {
  RS256: { hash: 'sha256', options: {} },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, options: {} },
} as const;
export type IdpAlgorithm = keyof typeof SIGNING;

/** A signing key of an identity provider: its public JWK (with kid) and a way to sign tokens with it. */
export class IdpKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor(
    readonly kid: string,
    readonly alg: IdpAlgorithm = 'RS256',
    pair?: { privateKey: KeyObject; publicKey: KeyObject },
  ) {
    const generated =
      pair ??
      (alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
          : generateKeyPairSync('ed25519'));
    this.privateKey = generated.privateKey;
    this.publicKey = generated.publicKey;
  }

  /** The public JWK as an identity provider publishes it. */
  jwk(extra: object = {}): object {
    return { ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, use: 'sig', alg: this.alg, ...extra };
  }

  /** A token signed with this key: header `alg` and `kid` unless overridden; claims as given (plus iat/exp). */
  sign(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    const { hash, options } = SIGNING[this.alg];
    const fullHeader = { alg: this.alg, kid: this.kid, typ: 'JWT', ...header };
    return forgeAsymmetric(fullHeader, { iat: now(), exp: now() + 600, ...claims }, this.privateKey, hash, options);
  }
}
