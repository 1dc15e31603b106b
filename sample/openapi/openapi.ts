import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { applyJwtSecurity } from 'nestjs-jwt-extended/swagger';

/** Where the sample serves its OpenAPI document: Swagger UI at /docs, the JSON at /docs-json. */
export const DOCS_PATH = 'docs';

/**
 * The sample's OpenAPI document, with the security the guard enforces (schemes for its header and
 * cookie tokens, requirements per route, `security: []` on public routes), served at /docs.
 */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder().setTitle('nestjs-jwt-extended sample').setVersion('1.0').build();
  const document = applyJwtSecurity(SwaggerModule.createDocument(app, config), app);
  // Swagger UI's assets need @fastify/static on Fastify, which the sample does not install: there
  // it serves the JSON document (/docs-json) only.
  const ui = app.getHttpAdapter().getType() !== 'fastify';
  SwaggerModule.setup(DOCS_PATH, app, document, { ui });
  return document;
}
