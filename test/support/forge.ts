import { type KeyObject, createHmac, sign } from 'node:crypto';

/** Raw base64url of a string or JSON value: tokens no honest library would make. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** Signs `header.payload` with HMAC of the given hash; header and payload are taken as given (raw strings stay raw). */
export function forgeHmac(header: unknown, payload: unknown, secret: string | Buffer | KeyObject, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

/** Signs with an asymmetric key through node:crypto directly. */
export function forgeAsymmetric(header: unknown, payload: unknown, key: KeyObject, hash: string | null, options: object = {}): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(hash, Buffer.from(input), { key, ...options }).toString('base64url')}`;
}

/**
 * `token` with another signature of the same length: its first character changed, which always
 * changes the signature's bytes and keeps it canonical base64url. (Overwriting the last characters
 * with fixed ones, as tests once did, leaves one signature in ~1,000 unchanged: a valid token.)
 */
export function withAnotherSignature(token: string): string {
  const start = token.lastIndexOf('.') + 1;
  return `${token.slice(0, start)}${token[start] === 'A' ? 'B' : 'A'}${token.slice(start + 1)}`;
}

/** Seconds since the epoch, now. */
export const now = () => Math.floor(Date.now() / 1000);
