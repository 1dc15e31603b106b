/** A loader method may answer directly or with a Promise; the library awaits either. */
export type MaybePromise<T> = T | Promise<T>;
