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

/** `obj[key]` if `key` is an own property: a claim named `constructor` never reads the prototype. */
export function own(obj: object, key: string): unknown {
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

function decodeJsonObject(segment: string, what: string, messageKey: string): Record<string, unknown> {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) {
    throw new JwtDecodeException(`Invalid ${what} padding`, { messageKey });
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new JwtDecodeException(`Invalid ${what} string`, { messageKey });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwtDecodeException(`Invalid ${what} string: must be a json object`, { messageKey });
  }
  return value as Record<string, unknown>;
}

/**
 * Splits and parses a compact JWS. Every failure is a `JwtDecodeException` (422)
 * with a short reason that never repeats the token.
 */
export function parseCompactToken(token: unknown, maxLength: number, messageKey: string): UnverifiedToken {
  if (typeof token !== 'string') {
    throw new JwtDecodeException('Invalid token type. Token must be a string', { messageKey });
  }
  if (token.length > maxLength) {
    throw new JwtDecodeException('Token is too long', { messageKey });
  }
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot < 0 || secondDot < 0) throw new JwtDecodeException('Not enough segments', { messageKey });
  if (token.indexOf('.', secondDot + 1) >= 0) throw new JwtDecodeException('Too many segments', { messageKey });

  const header = decodeJsonObject(token.slice(0, firstDot), 'header', messageKey) as JwtHeader;
  const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot), 'payload', messageKey);
  const signaturePart = token.slice(secondDot + 1);
  if (!BASE64URL.test(signaturePart) || signaturePart.length % 4 === 1) {
    throw new JwtDecodeException('Invalid crypto padding', { messageKey });
  }
  return {
    header,
    payload,
    signingInput: token.slice(0, secondDot),
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}
