import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { JwtExtendedModule, JwtExtendedService } from 'nestjs-jwt-extended';

it('creates and decodes a token from a CommonJS Jest test', async () => {
  const ref = await Test.createTestingModule({ imports: [JwtExtendedModule.forRoot({ secretKey: 'x'.repeat(32) })] }).compile();
  const jwt = ref.get(JwtExtendedService);
  expect(await jwt.decodeToken(await jwt.createAccessToken('cjs'))).toMatchObject({ sub: 'cjs' });
});
