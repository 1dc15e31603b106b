// An ESM NestJS 12 app using the packed library: boots, logs in, calls a protected route.
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtExtendedModule, JwtExtendedService, JwtRequired } from 'nestjs-jwt-extended';

class AppController {
  constructor(jwt) {
    this.jwt = jwt;
  }
  async login() {
    return { token: await this.jwt.createAccessToken('esm-user') };
  }
  me(req) {
    return { identity: this.jwt.getJwtIdentity(req) };
  }
}
Inject(JwtExtendedService)(AppController, undefined, 0);
Req()(AppController.prototype, 'me', 0);
Reflect.decorate([Post('login')], AppController.prototype, 'login', Object.getOwnPropertyDescriptor(AppController.prototype, 'login'));
Reflect.decorate([Get('me'), JwtRequired()], AppController.prototype, 'me', Object.getOwnPropertyDescriptor(AppController.prototype, 'me'));
Controller()(AppController);

class AppModule {}
Module({ imports: [JwtExtendedModule.forRoot({ secretKey: 'consumer-secret-that-is-32-bytes!!' })], controllers: [AppController] })(
  AppModule,
);

// §10: the context packages are optional peers; npm must not have installed them, and the app runs without them.
const OPTIONAL_PEERS = ['@nestjs/microservices', '@nestjs/graphql', '@nestjs/websockets', '@nestjs/swagger'];
const resolvable = OPTIONAL_PEERS.filter((name) => {
  try {
    import.meta.resolve(name);
    return true;
  } catch (error) {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return false;
  }
});
if (resolvable.length > 0) {
  console.error('ESM consumer FAILED: optional peers were installed', resolvable);
  process.exit(1);
}

const app = await NestFactory.create(AppModule, { logger: false });
await app.listen(0, '127.0.0.1');
const base = `http://127.0.0.1:${app.getHttpServer().address().port}`;
const { token } = await (await fetch(`${base}/login`, { method: 'POST' })).json();
const ok = await fetch(`${base}/me`, { headers: { Authorization: `Bearer ${token}` } });
const denied = await fetch(`${base}/me`);
const body = await ok.json();
await app.close();
if (ok.status !== 200 || body.identity !== 'esm-user' || denied.status !== 401) {
  console.error('ESM consumer FAILED', ok.status, body, denied.status);
  process.exit(1);
}
console.log('ESM NestJS 12 consumer: ok');
