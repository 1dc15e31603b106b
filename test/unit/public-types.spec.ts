import { Injectable } from '@nestjs/common';
import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import {
  type JwtExtendedModuleAsyncOptions,
  type JwtExtendedModuleOptions,
  type JwtExtendedOptions,
  type JwtExtendedOptionsFactory,
  JwtExtendedModule,
  JwtExtendedService,
} from '../../lib/index.js';
import { SECRET } from '../support/app.js';

@Injectable()
class Options implements JwtExtendedOptionsFactory {
  createJwtExtendedOptions(): JwtExtendedOptions {
    return { secretKey: SECRET };
  }
}

describe('the module option types are exported', () => {
  it('an app can build its forRoot / forRootAsync arguments in typed helpers', async () => {
    const sync: JwtExtendedModuleOptions = { secretKey: SECRET, isGlobal: false };
    const async: JwtExtendedModuleAsyncOptions = { useClass: Options, isGlobal: false };
    // @ts-expect-error a misspelt option does not compile
    const wrong: JwtExtendedModuleOptions = { secretKy: SECRET };
    expect(wrong).toBeDefined();
    for (const module of [JwtExtendedModule.forRoot(sync), JwtExtendedModule.forRootAsync(async)]) {
      const ref = await Test.createTestingModule({ imports: [module] }).compile();
      expect(await ref.get(JwtExtendedService).createAccessToken('a')).toMatch(/^ey/);
      await ref.close();
    }
  });
});
