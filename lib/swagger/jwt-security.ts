import { type INestApplication, RequestMethod, type Type, VersioningType } from '@nestjs/common';
import { METHOD_METADATA, MODULE_PATH, PATH_METADATA, VERSION_METADATA } from '@nestjs/common/constants.js';
import { type ApplicationConfig, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { LegacyRouteConverter } from '@nestjs/core/router/legacy-route-converter.js';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
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
   * @deprecated Ignored: routes are matched to operations by HTTP method and path, whatever the
   * operationIds. Still accepted so that existing calls compile.
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

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search', 'query'];
/** The operations @nestjs/swagger documents for an `@All()` route. */
const ALL_METHODS = ['get', 'post', 'put', 'delete', 'patch', 'options', 'head', 'search', 'query'];
/** @nestjs/swagger's metadata keys (strings, so that nothing of it is loaded). */
const SWAGGER = {
  excludeEndpoint: 'swagger/apiExcludeEndpoint',
  includeEndpoint: 'swagger/apiIncludeEndpoint',
  excludeController: 'swagger/apiExcludeController',
  webhook: 'swagger/apiWebhook',
};

interface Route {
  /** `GET /users/{id}`: the HTTP method and the path as @nestjs/swagger writes them into the document. */
  key: string;
  controller: Type;
  handler: object;
  /** What the guard does on this route; undefined when no JwtGuard runs there. */
  protection: Protection | undefined;
  /** Left out of the document by @nestjs/swagger's own decorators. */
  excluded: boolean;
  /** Marked by `@ApiIncludeEndpoint()` (for `onlyIncludeDecoratedEndpoints`). */
  included: boolean;
}

/** A path parameter name of path-to-regexp 8: an identifier or a quoted string. */
const PARAMETER_NAME = /^(?:[$_\p{ID_Start}][$\u200c\u200d\p{ID_Continue}]*|"(?:\\.|[^"\\])*")/u;

/**
 * A Nest route path as @nestjs/swagger writes it: the same legacy conversions, then parameters and
 * wildcards (`:id`, `*rest`) as `{id}`, `{rest}`, optional groups flattened, escapes resolved.
 */
function documentPath(routePath: string): string {
  const path = LegacyRouteConverter.tryConvert(routePath, { logs: false })
    .replace(/::/g, '\\:')
    .replace(/\[:\]/g, '\\:')
    .replace(/\(\^([^)]+)\)/g, '');
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const char = path[i];
    if (char === '\\') out += path[++i] ?? '';
    else if (char === '{' || char === '}') continue;
    else {
      const name = char === ':' || char === '*' ? PARAMETER_NAME.exec(path.slice(i + 1))?.[0] : undefined;
      if (name === undefined) {
        out += char;
        continue;
      }
      out += `{${name.startsWith('"') ? name.slice(1, -1).replace(/\\(.)/g, '$1') : name}}`;
      i += name.length;
    }
  }
  if (out === '/' || out === '') return '/';
  return out.startsWith('/') ? out : `/${out}`;
}

/**
 * Every route of every controller, keyed by HTTP method and path built as Nest's router and
 * @nestjs/swagger build them (RoutePathFactory: global prefix and its exclusions, RouterModule
 * paths, controller and method paths, URI versions), each with the nearest declaration the guard
 * itself resolves. The operationIds play no part: they need not be unique, and users choose them.
 */
function appRoutes(app: INestApplication, config: ApplicationConfig, globalGuard: boolean): Route[] {
  const scanner = new MetadataScanner();
  const paths = new RoutePathFactory(config);
  const versioning = config.getVersioning();
  const globalPrefix = config.getGlobalPrefix().replace(/\/$/, '');
  const modules = app.get(ModulesContainer, { strict: false });
  return [...modules.values()].flatMap((module) => {
    const modulePath = (Reflect.getMetadata(MODULE_PATH + modules.applicationId, module.metatype) ??
      Reflect.getMetadata(MODULE_PATH, module.metatype)) as string | undefined;
    return [...module.controllers.values()].flatMap(({ metatype }) => {
      if (!metatype) return [];
      const controller = metatype as Type;
      const prototype = controller.prototype as Record<string, object>;
      const excludedController = (Reflect.getMetadata(SWAGGER.excludeController, controller) as unknown[] | undefined)?.[0] === true;
      // As @nestjs/swagger reads the controller version: only URI versions are in the path.
      const controllerVersion =
        versioning?.type === VersioningType.URI
          ? ((Reflect.getMetadata(VERSION_METADATA, controller) as string | undefined) ?? versioning.defaultVersion)
          : undefined;
      return scanner.getAllMethodNames(prototype).flatMap((name) => {
        const handler = prototype[name];
        // Arrays of paths are typed as one path by RoutePathFactory, which takes both.
        const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (methodPath === undefined) return [];
        const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        const routePaths = paths.create(
          {
            methodPath,
            methodVersion: Reflect.getMetadata(VERSION_METADATA, handler) as string | undefined,
            modulePath,
            globalPrefix,
            controllerVersion,
            ctrlPath: Reflect.getMetadata(PATH_METADATA, controller) as string,
            versioningOptions: versioning,
          },
          requestMethod,
        );
        const methods = requestMethod === RequestMethod.ALL ? ALL_METHODS : [RequestMethod[requestMethod].toLowerCase()];
        const protection = declaredProtection(controller, handler) ?? (globalGuard ? DEFAULT_OPTIONS : undefined);
        const excluded =
          excludedController ||
          (Reflect.getMetadata(SWAGGER.excludeEndpoint, handler) as { disable?: boolean } | undefined)?.disable === true ||
          Reflect.getMetadata(SWAGGER.webhook, handler) !== undefined;
        const included = Reflect.getMetadata(SWAGGER.includeEndpoint, handler) !== undefined;
        return routePaths.flatMap((routePath) =>
          methods.map((method) => ({
            key: `${method.toUpperCase()} ${documentPath(routePath)}`,
            controller,
            handler,
            protection,
            excluded,
            included,
          })),
        );
      });
    });
  });
}

/**
 * `JwtGuard` (or a subclass) among the app's global guards: `globalGuard: true`, an `APP_GUARD`
 * or `useGlobalGuards`; a request-scoped `APP_GUARD` is kept apart, as its class.
 */
function hasGlobalJwtGuard(config: ApplicationConfig): boolean {
  const isJwtGuard = (type: unknown) => typeof type === 'function' && (type === JwtGuard || type.prototype instanceof JwtGuard);
  return (
    config.getGlobalGuards().some((guard) => guard instanceof JwtGuard) ||
    config.getGlobalRequestGuards().some((wrapper) => isJwtGuard(wrapper.metatype))
  );
}

/** What the document says of a protection: routes that differ only in what it cannot show are alike. */
function documentedAs(protection: Protection | undefined): string {
  if (protection === undefined || protection === PUBLIC) return String(protection);
  const { locations, refresh = false, optional = false } = protection;
  return JSON.stringify({ locations, refresh, optional });
}

/**
 * Routes by operation (`GET /path`). Throws where the document would be wrong: two routes the
 * guard treats differently under one operation, a protected route @nestjs/swagger should have
 * documented but did not, or an operation of the document that is no route of this app.
 */
function routesByOperation(document: OpenAPIObject, routes: Route[]): Map<string, Route> {
  const byKey = new Map<string, Route>();
  for (const route of routes) {
    const other = byKey.get(route.key);
    if (other && documentedAs(other.protection) !== documentedAs(route.protection)) {
      throw new Error(
        `applyJwtSecurity(): ${route.key} is routed to ${other.controller.name} and ${route.controller.name}, which the guard protects differently; one operation cannot document both`,
      );
    }
    if (!other) byKey.set(route.key, route);
  }
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      if (!(item as Record<string, unknown>)[method]) continue;
      const key = `${method.toUpperCase()} ${path}`;
      if (!byKey.has(key)) {
        throw new Error(
          `applyJwtSecurity(): the operation ${key} is no route of this application (was the document created for it, without ignoreGlobalPrefix?)`,
        );
      }
      documented.add(key);
    }
  }
  // A controller none of whose routes are in the document was left out on purpose (`include`);
  // a handler is documented when one of its routes is (@nestjs/swagger drops QUERY before OpenAPI 3.2).
  const documentedRoutes = routes.filter((r) => documented.has(r.key));
  const documentedControllers = new Set(documentedRoutes.map((r) => r.controller));
  const handlerDocumented = (route: Route) =>
    documentedRoutes.some((r) => r.controller === route.controller && r.handler === route.handler);
  const onlyIncluded = (controller: Type) => documentedRoutes.every((r) => r.controller !== controller || r.included);
  for (const route of routes) {
    if (route.protection === undefined || route.excluded || handlerDocumented(route)) continue;
    if (!documentedControllers.has(route.controller) || (!route.included && onlyIncluded(route.controller))) continue;
    throw new Error(`applyJwtSecurity(): ${route.key} of ${route.controller.name} is guarded but has no operation in the document`);
  }
  return byKey;
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
// `_options` is kept so that calls written for the operationId matching still compile.
export function applyJwtSecurity(document: OpenAPIObject, app: INestApplication, _options: JwtSecurityOptions = {}): OpenAPIObject {
  let config: JwtExtendedConfig;
  try {
    config = app.get<symbol, JwtExtendedConfig>(JWT_EXTENDED_CONFIG, { strict: false });
  } catch (cause) {
    throw new Error('applyJwtSecurity(): the application does not use JwtExtendedModule', { cause });
  }
  // The application's own configuration, read as @nestjs/swagger reads the global prefix from it.
  const appConfig = (app as unknown as { config: ApplicationConfig }).config;
  const routes = routesByOperation(document, appRoutes(app, appConfig, hasGlobalJwtGuard(appConfig)));
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

  for (const [path, pathItem] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (pathItem as Record<string, OperationObject | undefined>)[method];
      const route = operation && routes.get(`${method.toUpperCase()} ${path}`);
      if (!operation || !route?.protection) continue;
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
