import { isUtf8 } from 'node:buffer';
import { JwtDecodeException } from '../errors/exceptions.js';
import type { JwtHeader } from './jwt.interfaces.js';

/** A token split into its parts; nothing in it is verified yet. */
export interface UnverifiedToken {
  header: JwtHeader;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Bits of the last character that carry no data, by `length % 4` (RFC 4648 §3.5: they must be zero). */
const UNUSED_BITS: Record<number, number> = { 2: 0b1111, 3: 0b11 };

/** `obj[key]` if `key` is an own property: a claim named `constructor` never reads the prototype. */
export function own(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** Base64url in the URL alphabet, unpadded, of a length some bytes encode to. */
function isBase64url(segment: string): boolean {
  return segment.length % 4 !== 1 && BASE64URL.test(segment);
}

/**
 * No set unused bits in the last character (RFC 4648 §3.5): otherwise several spellings
 * decode to the same bytes. Constant work.
 */
function isCanonicalBase64url(segment: string): boolean {
  const unused = UNUSED_BITS[segment.length % 4];
  return unused === undefined || (BASE64URL_ALPHABET.indexOf(segment[segment.length - 1]) & unused) === 0;
}

function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  if (!isBase64url(segment)) throw new JwtDecodeException(`Invalid ${what} padding`);
  const bytes = Buffer.from(segment, 'base64url');
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new JwtDecodeException(`Invalid ${what} string`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtDecodeException(`Invalid ${what} string: must be a json object`);
  }
  // Checked once the JSON parsed, so a segment that is not JSON at all keeps its plain reason.
  // RFC 7515 §5.2: the JSON is UTF-8; toString('utf8') would have turned invalid sequences into U+FFFD.
  if (!isUtf8(bytes)) throw new JwtDecodeException(`Invalid ${what} string: must be UTF-8`);
  if (!isCanonicalBase64url(segment)) throw new JwtDecodeException(`Invalid ${what} padding`);
  return value as Record<string, unknown>;
}

/**
 * Parsed headers by their segment: an app's tokens share a handful of headers (`alg`, `typ`,
 * `kid`), and decoding one costs a third of a token's parse. Only flat headers (no object or
 * array values) are kept, and every parse gets a copy of its own, so nothing one caller does to
 * its header reaches another. Bounded: when full it starts over (ever new headers only miss).
 */
export class HeaderCache {
  private readonly headers = new Map<string, JwtHeader>();

  constructor(private readonly maxEntries = 64) {}

  parse(segment: string): JwtHeader {
    const known = this.headers.get(segment);
    if (known) return { ...known };
    const header = decodeJsonObject(segment, 'header') as JwtHeader;
    if (Object.values(header).every((value) => typeof value !== 'object' || value === null)) {
      if (this.headers.size >= this.maxEntries) this.headers.clear();
      this.headers.set(segment, { ...header });
    }
    return header;
  }
}

/**
 * Splits and parses a compact JWS. Every failure is a `JwtDecodeException` (422)
 * with a short reason that never repeats the token.
 */
export function parseCompactToken(token: unknown, maxLength: number, headers?: HeaderCache): UnverifiedToken {
  if (typeof token !== 'string') {
    throw new JwtDecodeException('Invalid token type. Token must be a string');
  }
  if (token.length > maxLength) {
    throw new JwtDecodeException('Token is too long');
  }
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot < 0 || secondDot < 0) throw new JwtDecodeException('Not enough segments');
  if (token.indexOf('.', secondDot + 1) >= 0) throw new JwtDecodeException('Too many segments');

  const headerSegment = token.slice(0, firstDot);
  const header = headers ? headers.parse(headerSegment) : (decodeJsonObject(headerSegment, 'header') as JwtHeader);
  const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot), 'payload');
  const signature = token.slice(secondDot + 1);
  if (!isBase64url(signature) || !isCanonicalBase64url(signature)) {
    throw new JwtDecodeException('Invalid crypto padding');
  }
  return { header, payload, signingInput: token.slice(0, secondDot), signature: Buffer.from(signature, 'base64url') };
}
