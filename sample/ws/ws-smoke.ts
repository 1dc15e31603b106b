import { type Socket, io } from 'socket.io-client';

/** What the gateway answered (the ack), or the `exception` it sent instead. */
type Answer = { data: unknown } | { error: unknown };

function connectChat(base: string, token?: string): Socket {
  return io(`${base}/chat`, { transports: ['websocket'], reconnection: false, forceNew: true, auth: token ? { token } : {} });
}

function call(socket: Socket, event: string, data?: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    socket.once('exception', (error: unknown) => resolve({ error }));
    socket.emit(event, data, (answer: unknown) => {
      socket.off('exception');
      resolve({ data: answer });
    });
  });
}

/** JSON with sorted keys: answers compare by content, not key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).toSorted(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function expectAnswer(step: string, actual: Answer, expected: Answer): void {
  if (canonical(actual) !== canonical(expected)) {
    throw new Error(`${step}: expected ${canonical(expected)}, got ${canonical(actual)}`);
  }
}

/** The socket.io steps of the smoke run: `login` gives a user's access token, `logout` revokes it. */
export async function runWsSmoke(
  base: string,
  step: (name: string, run: () => Promise<void>) => Promise<void>,
  login: () => Promise<string>,
  logout: (token: string) => Promise<void>,
): Promise<void> {
  await step('socket.io: a handshake without a token is refused and dropped', async () => {
    const socket = connectChat(base);
    const refusal = new Promise<unknown>((resolve) => socket.once('exception', resolve));
    const dropped = new Promise((resolve) => socket.once('disconnect', resolve));
    const refused = await refusal;
    await dropped;
    expectAnswer(
      'chat without token',
      { error: refused },
      {
        error: {
          status: 401,
          msg: 'Missing JWT in headers or cookies (Missing Authorization Header; Missing cookie "access_token_cookie")',
        },
      },
    );
  });
  await step('socket.io: every message is verified; a token revoked mid-connection stops working', async () => {
    const token = await login();
    const socket = connectChat(base, token);
    try {
      expectAnswer('chat whoami', await call(socket, 'whoami'), { data: { username: 'alice', role: 'admin' } });
      expectAnswer('chat say', await call(socket, 'say', 'hello'), { data: { from: 'alice', text: 'hello' } });
      await logout(token);
      expectAnswer('chat after logout', await call(socket, 'whoami'), { error: { status: 401, msg: 'Token has been revoked' } });
    } finally {
      socket.close();
    }
  });
}
