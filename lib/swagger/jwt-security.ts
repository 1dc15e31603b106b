import type { INestApplication } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
// Types only: @nestjs/swagger is an optional peer, and nothing of it is loaded at runtime.
import type { OpenAPIObject, OperationObject, SchemaObject, SecurityRequirementObject, SecuritySchemeObject } from '@nestjs/swagger';
import { JWT_EXTENDED_CONFIG } from '../config/injection-tokens.js';
import type { JwtExtendedConfig, TokenType } from '../config/jwt-extended-config.js';
import { DEFAULT_OPTIONS, JwtGuard, PUBLIC, type Protection, declaredProtection } from '../guard/jwt.guard.js';
import type { TokenLocation } from '../tokens/jwt.interfaces.js';

/** The `operationIdFactory` given to `SwaggerModule.createDocument`, when it is not the default. */
export type OperationIdFactory = (controllerKey: string, methodKey: string, version?: string) => string;

export interface JwtSecurityOptions {
  /**
   * The `operationIdFactory` the document was created with (routes are matched to operations by
   * it). Default: `@nestjs/swagger`'s `<Controller>_<method>`. A custom one must keep the method
   * key at the end, as the default does.
   */
  operationIdFactory?: OperationIdFactory;
}

/** Names of the security schemes `applyJwtSecurity` adds (those the configuration and the routes use). */
export const JWT_SECURITY_SCHEMES = {
  access: { headers: 'jwt', cookies: 'jwtCookie', query_string: 'jwtQuery', csrf: 'jwtCsrf' },
  refresh: { headers: 'jwtRefresh', cookies: 'jwtRefreshCookie', query_string: 'jwtRefreshQuery', csrf: 'jwtRefreshCsrf' },
} as const satisfies Record<TokenType, Record<Exclude<TokenLocation, 'json'> | 'csrf', string>>;

/** Name of the component schema of the library's error body, referenced by the 401 and 422 responses. */
export const JWT_ERROR_SCHEMA = 'JwtError';

const defaultOperationId: OperationIdFactory = (controllerKey, methodKey) => `${controllerKey}_${methodKey}`;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search', 'query'];

interface Route {
  /** The operationId of the route before the suffixes @nestjs/swagger adds (`[i]` aliases, `_v1` versions, `_get` for @All). */
  operationId: string;
  protection: Protection;
}

/**
 * The routes the guard protects or opens, the way Nest routes them: every controller's handler
 * methods (inherited ones too), each with the nearest declaration the guard itself resolves.
 */
function guardedRoutes(app: INestApplication, globalGuard: boolean, operationId: OperationIdFactory): Route[] {
  const scanner = new MetadataScanner();
  return app
    .get(DiscoveryService, { strict: false })
    .getControllers()
    .flatMap(({ metatype, instance }) => {
      if (!metatype || !instance) return [];
      const prototype = Object.getPrototypeOf(instance) as Record<string, object>;
      return scanner.getAllMethodNames(prototype).flatMap((name) => {
        const handler = prototype[name];
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) return [];
        const protection = declaredProtection(metatype, handler) ?? (globalGuard ? DEFAULT_OPTIONS : undefined);
        return protection ? [{ operationId: operationId(metatype.name, name), protection }] : [];
      });
    });
}

/** `JwtGuard` among the app's global guards: `globalGuard: true`, an `APP_GUARD` or `useGlobalGuards`. */
function hasGlobalJwtGuard(app: INestApplication): boolean {
  // The application's own configuration, read as @nestjs/swagger reads the global prefix from it.
  const config = (app as { config?: { getGlobalGuards?(): unknown[] } }).config;
  return (config?.getGlobalGuards?.() ?? []).some((guard) => guard instanceof JwtGuard);
}

/** The route of an operation: the longest operationId it starts with, followed by nothing or a suffix @nestjs/swagger adds. */
function routeOf(operationId: string | undefined, routes: Route[]): Route | undefined {
  if (operationId === undefined) return undefined;
  return routes.find(
    (route) =>
      operationId === route.operationId || [`${route.operationId}_`, `${route.operationId}[`].some((p) => operationId.startsWith(p)),
  );
}

function securitySchemes(
  config: JwtExtendedConfig,
  type: TokenType,
): Record<keyof (typeof JWT_SECURITY_SCHEMES)['access'], SecuritySchemeObject> {
  const { headerName, headerType, queryStringName, queryStringValuePrefix } = config;
  const { cookieName, csrfCookieName, csrfHeaderName } = config.tokens[type];
  const token = `the ${type} token`;
  const bearer = headerName.toLowerCase() === 'authorization' && headerType.toLowerCase() === 'bearer';
  return {
    headers: bearer
      ? { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: `${token} as '${headerName}: ${headerType} <JWT>'` }
      : {
          type: 'apiKey',
          in: 'header',
          name: headerName,
          description: headerType === '' ? `${token}, bare` : `${token} as '${headerType} <JWT>'`,
        },
    cookies: { type: 'apiKey', in: 'cookie', name: cookieName, description: `${token} in the ${cookieName} cookie` },
    query_string: {
      type: 'apiKey',
      in: 'query',
      name: queryStringName,
      description: queryStringValuePrefix === '' ? token : `${token}, after the prefix '${queryStringValuePrefix}'`,
    },
    csrf: {
      type: 'apiKey',
      in: 'header',
      name: csrfHeaderName,
      description: `CSRF double submit with ${token} cookie: the value of the ${csrfCookieName} cookie (the token's csrf claim)`,
    },
  };
}

/** The library's error body, as `errorFormat` / `errorMessageKey` shape it. */
function errorSchema({ errorFormat, errorMessageKey }: JwtExtendedConfig): SchemaObject {
  if (errorFormat === 'flask') {
    return {
      type: 'object',
      properties: { [errorMessageKey]: { type: 'string', example: 'Missing Authorization Header' } },
      required: [errorMessageKey],
    };
  }
  return {
    type: 'object',
    properties: {
      statusCode: { type: 'integer', example: 401 },
      message: { type: 'string', example: 'Missing Authorization Header' },
      error: { type: 'string', example: 'Unauthorized' },
      code: { type: 'string', example: 'NO_AUTHORIZATION' },
    },
    required: ['statusCode', 'message', 'error', 'code'],
  };
}

const ERROR_RESPONSES = {
  401: 'No token, an expired, revoked or not fresh token, or a failed CSRF check',
  422: 'A malformed token, a bad signature, invalid claims or the wrong token type',
};

/**
 * Adds to `document` (from `SwaggerModule.createDocument(app, …)`) what `JwtExtendedModule`
 * enforces: security schemes for the configured token locations (HTTP bearer, or an API-key
 * header for another header name or type; API-key cookie, with the CSRF header on the methods that
 * need it; API-key query), a requirement on every route the guard protects (`@JwtRequired()`,
 * `@UseGuards(JwtGuard)` or the global guard; refresh routes name the refresh-token schemes,
 * optional ones also allow no token), `security: []` on `@JwtPublic()` routes, and the 401 and
 * 422 responses with the error body. Returns `document`, changed in place.
 */
export function applyJwtSecurity(document: OpenAPIObject, app: INestApplication, options: JwtSecurityOptions = {}): OpenAPIObject {
  let config: JwtExtendedConfig;
  try {
    config = app.get<symbol, JwtExtendedConfig>(JWT_EXTENDED_CONFIG, { strict: false });
  } catch (cause) {
    throw new Error('applyJwtSecurity(): the application does not use JwtExtendedModule', { cause });
  }
  const routes = guardedRoutes(app, hasGlobalJwtGuard(app), options.operationIdFactory ?? defaultOperationId);
  // Longest first: `Users_get_all` belongs to getAll's `Users_get_all`, not to get's `Users_get`.
  routes.sort((a, b) => b.operationId.length - a.operationId.length);
  const schemes = { access: securitySchemes(config, 'access'), refresh: securitySchemes(config, 'refresh') };
  const csrfMethods = config.csrfMethods.has('GET') ? new Set([...config.csrfMethods, 'HEAD']) : config.csrfMethods;
  const used = new Map<string, SecuritySchemeObject>();
  let protectedRoutes = false;

  const requirement = (location: TokenLocation, type: TokenType, method: string): SecurityRequirementObject | undefined => {
    if (location === 'json') return undefined; // a body field is no OpenAPI security scheme
    const names = JWT_SECURITY_SCHEMES[type];
    used.set(names[location], schemes[type][location]);
    if (location !== 'cookies' || !config.cookieCsrfProtect || !csrfMethods.has(method.toUpperCase())) return { [names[location]]: [] };
    used.set(names.csrf, schemes[type].csrf);
    return { [names.cookies]: [], [names.csrf]: [] };
  };

  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (pathItem as Record<string, OperationObject | undefined>)[method];
      const route = routeOf(operation?.operationId, routes);
      if (!operation || !route) continue;
      if (route.protection === PUBLIC) {
        operation.security = [];
        continue;
      }
      const { locations = config.tokenLocation, refresh, optional } = route.protection;
      const requirements = locations.flatMap((location): SecurityRequirementObject[] => {
        const found = requirement(location, refresh ? 'refresh' : 'access', method);
        return found ? [found] : [];
      });
      if (requirements.length > 0) operation.security = optional ? [...requirements, {}] : requirements;
      const content = { 'application/json': { schema: { $ref: `#/components/schemas/${JWT_ERROR_SCHEMA}` } } };
      operation.responses ??= {};
      for (const [status, description] of Object.entries(ERROR_RESPONSES)) operation.responses[status] ??= { description, content };
      protectedRoutes = true;
    }
  }

  document.components ??= {};
  document.components.securitySchemes = { ...document.components.securitySchemes, ...Object.fromEntries(used) };
  if (protectedRoutes) document.components.schemas = { ...document.components.schemas, [JWT_ERROR_SCHEMA]: errorSchema(config) };
  return document;
}
