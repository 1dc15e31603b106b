import 'reflect-metadata';
import { Controller, Get, type INestApplication, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JwtExtendedModule, JwtExtendedService, JwtIdentity, JwtRequired } from 'nestjs-jwt-extended';
// Sub-path types resolve under moduleResolution node10 through the package's typesVersions.
import type { RedisBlocklistOptions } from 'nestjs-jwt-extended/redis';
import type { JwtSecurityOptions } from 'nestjs-jwt-extended/swagger';
import { JwtTestKit, type TestHeaders } from 'nestjs-jwt-extended/testing';

@Controller()
class MeController {
  @Get('me')
  @JwtRequired()
  me(@JwtIdentity() identity: string) {
    return { identity };
  }
  @Post('me')
  @JwtRequired()
  update(@JwtIdentity() identity: string) {
    return { identity };
  }
}

it('creates and decodes a token from a CommonJS Jest test', async () => {
  const ref = await Test.createTestingModule({ imports: [JwtExtendedModule.forRoot({ secretKey: 'x'.repeat(32) })] }).compile();
  const jwt = ref.get(JwtExtendedService);
  expect(await jwt.decodeToken(await jwt.createAccessToken('cjs'))).toMatchObject({ sub: 'cjs' });
});

describe('the testing kit from a CommonJS Jest test', () => {
  let app: INestApplication;
  let base: string;
  beforeAll(async () => {
    const ref = await Test.createTestingModule({
      imports: [JwtExtendedModule.forRoot({ secretKey: 'x'.repeat(32), tokenLocation: ['headers', 'cookies'] })],
      controllers: [MeController],
    }).compile();
    app = ref.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  });
  afterAll(() => app.close());

  it('bearer() and cookies() pass the real guard', async () => {
    const kit = JwtTestKit.from(app);
    const bearer: TestHeaders = await kit.bearer('cjs-kit');
    expect(await (await fetch(`${base}/me`, { headers: bearer })).json()).toEqual({ identity: 'cjs-kit' });
    const cookies = await kit.cookies('cjs-kit');
    const posted = await fetch(`${base}/me`, { method: 'POST', headers: cookies });
    expect(posted.status).toBe(201);
    const expired = await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${await kit.expiredAccessToken('cjs-kit')}` } });
    expect(await expired.json()).toEqual({ msg: 'Token has expired' });
  });

  it('the Redis store options type-check', () => {
    const options: RedisBlocklistOptions = { keyPrefix: 'cjs:', timeout: 500 };
    expect(options.keyPrefix).toBe('cjs:');
  });

  it('the OpenAPI options type-check', () => {
    const options: JwtSecurityOptions = { operationIdFactory: (controller, method) => `${controller}.${method}` };
    expect(options.operationIdFactory?.('Me', 'me')).toBe('Me.me');
  });
});
