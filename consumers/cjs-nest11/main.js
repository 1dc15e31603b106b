// A CommonJS NestJS 11 app that require()s the ESM package (Node >= 20.19).
require('reflect-metadata');
const { Controller, Get, Inject, Module, Post, Req } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { JwtExtendedModule, JwtExtendedService, JwtRequired } = require('nestjs-jwt-extended');

class AppController {
  constructor(jwt) {
    this.jwt = jwt;
  }
  async login() {
    return { token: await this.jwt.createAccessToken('cjs-user') };
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
function resolvablePeers() {
  return OPTIONAL_PEERS.filter((name) => {
    try {
      require.resolve(name);
      return true;
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') throw error;
      return false;
    }
  });
}

async function main() {
  const resolvable = resolvablePeers();
  if (resolvable.length > 0) {
    console.error('CJS consumer FAILED: optional peers were installed', resolvable);
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
  if (ok.status !== 200 || body.identity !== 'cjs-user' || denied.status !== 401) {
    console.error('CJS consumer FAILED', ok.status, body, denied.status);
    process.exit(1);
  }
  console.log('CommonJS NestJS 11 consumer: ok');
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
