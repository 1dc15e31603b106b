import { expect } from '@jest/globals';
import type request from 'supertest';

/** The credentials header of a Bearer token, for `request(...).set(bearer(token))`. */
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The Cookie header that carries an access token under the default cookie name. */
export const accessCookie = (token: string) => ({ Cookie: `access_token_cookie=${token}` });

/** Nest's body for an exception it has no answer for: nothing of the error reaches the client. */
export const INTERNAL_ERROR = { statusCode: 500, message: 'Internal server error' };

/**
 * Which handlers ran, by name: "the handler never ran" is asserted, not assumed. Handlers call
 * `record` once they have done their work, so a handler that fails part-way has not run.
 */
class HandlerRuns {
  private readonly names: string[] = [];

  record(name: string): void {
    this.names.push(name);
  }

  /** Awaits `action` and returns its result with the names recorded meanwhile, in order. */
  async during<T>(action: () => PromiseLike<T>): Promise<{ result: T; ran: string[] }> {
    const from = this.names.length;
    const result = await action();
    return { result, ran: this.names.slice(from) };
  }
}

/** The recorder of the test file (Jest loads this module afresh for each test file). */
export const handlerRuns = new HandlerRuns();

/** Which handlers ran during one request: one name, or every name in order (`[]`: none ran). */
export type Ran = string | readonly string[];

export interface ResponseChecks {
  /** Text that must appear nowhere in the response body: a token, a raw reason. */
  hides?: string;
  /** What was sent, shown beside the answer when the check fails (for checks made in a loop). */
  context?: unknown;
}

/**
 * Sends `test` and checks, in one comparison, its status, its body (exact equality) and which
 * handlers ran while it was answered. Returns the response for checks of anything else.
 */
export async function expectResponse(
  test: request.Test,
  status: number,
  body: unknown,
  ran: Ran,
  checks: ResponseChecks = {},
): Promise<request.Response> {
  const { result: res, ran: actual } = await handlerRuns.during(() => test);
  expect({ context: checks.context, status: res.status, body: res.body, ran: actual }).toEqual({
    context: checks.context,
    status,
    body,
    ran: typeof ran === 'string' ? [ran] : ran,
  });
  if (checks.hides !== undefined) expect(res.text).not.toContain(checks.hides);
  return res;
}
