/**
 * What jest may fake besides `Date`, kept real: with only the wall clock faked, apps, sockets and
 * Redis clients keep their timers while the store, the decoder and the token signer read the
 * test's time. For `jest.useFakeTimers({ now, doNotFake: [...ALL_BUT_DATE] })`.
 */
export const ALL_BUT_DATE = [
  'hrtime',
  'nextTick',
  'performance',
  'queueMicrotask',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'requestIdleCallback',
  'cancelIdleCallback',
  'setImmediate',
  'clearImmediate',
  'setInterval',
  'clearInterval',
  'setTimeout',
  'clearTimeout',
] as const;
