import { Injectable } from '@nestjs/common';
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface User {
  username: string;
  role: 'admin' | 'user';
}

interface StoredUser extends User {
  salt: Buffer;
  hash: Buffer;
}

/** Seeded users, passwords hashed with scrypt. A real app would use its database here. */
export const SEED_USERS = [
  { username: 'alice', password: 'wonderland', role: 'admin' },
  { username: 'bob', password: 'can-we-fix-it', role: 'user' },
] as const;

@Injectable()
export class UsersService {
  private readonly users = new Map<string, StoredUser>();
  private readonly seeded: Promise<void>;

  constructor() {
    this.seeded = Promise.all(SEED_USERS.map((u) => this.setPassword(u.username, u.password, u.role))).then(() => undefined);
  }

  async find(username: unknown): Promise<User | undefined> {
    await this.seeded;
    const user = typeof username === 'string' ? this.users.get(username) : undefined;
    return user && { username: user.username, role: user.role };
  }

  /** The user if the password is right; the same work is done for unknown users (no timing oracle). */
  async verify(username: unknown, password: unknown): Promise<User | undefined> {
    await this.seeded;
    if (typeof username !== 'string' || typeof password !== 'string') return undefined;
    const user = this.users.get(username);
    const salt = user?.salt ?? Buffer.alloc(16);
    const hash = await scrypt(password, salt, 32);
    if (!user || !timingSafeEqual(hash, user.hash)) return undefined;
    return { username: user.username, role: user.role };
  }

  async setPassword(username: string, password: string, role?: User['role']): Promise<void> {
    const salt = randomBytes(16);
    const existing = this.users.get(username);
    this.users.set(username, { username, role: role ?? existing?.role ?? 'user', salt, hash: await scrypt(password, salt, 32) });
  }
}
