import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import request from 'supertest';
import { applyJwtSecurity } from '../../lib/swagger/index.js';
import { type AdapterName, type TestAppSetup, withTestApp } from './app.js';

/** A GET operation of the document, next to what the running app does with a request that carries no token. */
export interface GetOperation {
  /** The status of an unauthenticated GET (path parameters filled with `x`). */
  status: number;
  /** The operation's `security` in the document `applyJwtSecurity` produced. */
  security: unknown;
}

/** Builds the app's document with `applyJwtSecurity` and requests each GET path without a token. */
export async function getOperationsVersusGuard(adapter: AdapterName, setup: TestAppSetup): Promise<Record<string, GetOperation>> {
  const operations: Record<string, GetOperation> = {};
  await withTestApp(adapter, setup, async ({ app, url }) => {
    const document: OpenAPIObject = applyJwtSecurity(SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('t').build()), app);
    for (const [path, item] of Object.entries(document.paths)) {
      if (!item.get) continue;
      const { status } = await request(url).get(path.replace(/\{[^}]+\}/g, 'x'));
      operations[path] = { status, security: item.get.security };
    }
  });
  return operations;
}
