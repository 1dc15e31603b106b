import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { type SampleAdapter, createSampleApp } from './create-app.js';
import { runSmoke } from './smoke.js';

const args = new Set(process.argv.slice(2));
const smoke = args.has('--smoke');
const adapter: SampleAdapter = args.has('--fastify') || process.env.SAMPLE_ADAPTER === 'fastify' ? 'fastify' : 'express';
const secret = process.env.JWT_SECRET ?? randomBytes(32).toString('base64url');
const redisUrl = process.env.REDIS_URL || undefined;
const privateKey = process.env.JWT_PRIVATE_KEY || undefined;
const previousPublicKey = process.env.JWT_PREVIOUS_PUBLIC_KEY || undefined;

const app = await createSampleApp(adapter, { secret, redisUrl, privateKey, previousPublicKey }, !smoke);
app.enableShutdownHooks();
await app.listen(smoke ? 0 : Number(process.env.PORT ?? 3000), '127.0.0.1');
const { port } = app.getHttpServer().address() as { port: number };
const base = `http://127.0.0.1:${port}`;
const store = redisUrl ? `Redis (${redisUrl})` : 'in memory';

if (smoke) {
  console.log(`Smoke test of the sample on ${adapter}, revocations ${store}: ${base}`);
  try {
    const passed = await runSmoke(base, console.log);
    console.log(`Smoke: ${passed.length} steps passed`);
  } catch (error) {
    console.error(`Smoke FAILED: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await app.close();
  }
} else {
  if (!process.env.JWT_SECRET) console.log('JWT_SECRET is not set: using a random secret (tokens end with the process).');
  if (!privateKey) console.log('JWT_PRIVATE_KEY is not set: signing with an EdDSA key made in memory (tokens end with the process).');
  console.log(`
nestjs-jwt-extended sample on ${adapter}, revocations ${store}
Listening on ${base}   (open it in a browser for the cookie + CSRF page)
OpenAPI: ${base}/docs-json${adapter === 'express' ? `, Swagger UI at ${base}/docs` : ''}

Try:
  curl -s -X POST ${base}/auth/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland"}'
  TOKEN=$(curl -s -X POST ${base}/auth/login -H 'Content-Type: application/json' -d '{"username":"alice","password":"wonderland"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')
  curl -s ${base}/me -H "Authorization: Bearer $TOKEN"
  curl -s ${base}/greeting
  curl -s ${base}/graphql -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -d '{"query":"{ me { username role } }"}'
  curl -s ${base}/.well-known/jwks.json                       # the public keys, for services verifying these tokens
  curl -s -X DELETE ${base}/auth/logout -H "Authorization: Bearer $TOKEN"
  curl -s ${base}/me -H "Authorization: Bearer $TOKEN"      # 401 Token has been revoked
`);
}
