import { type ArgumentsHost, Catch, type HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { contextAdapter } from '../request/contexts/execution-contexts.js';
import { ContextLibraryException, libraryExceptionOf } from './context-exception.js';
import { ErrorResponder } from './error-responder.service.js';
import { JwtExtendedException } from './exceptions.js';

const logger = new Logger('JwtExtendedModule');

/**
 * Gives error loaders the word on every library exception that reaches Nest: from
 * `JwtGuard`, from a custom guard or middleware calling `verifyJwtInRequest`, from a
 * handler calling `decodeToken` — as Flask's app-wide error handlers do, in every execution
 * context its adapter answers in (a route's response, a resolver's GraphQL error). Code that
 * catches the exception itself still gets the library's class. The module registers
 * it app-wide (`APP_FILTER`) only when an error loader is configured; with several
 * modules, the one that catches hands each exception to its own module's responder.
 */
@Catch(JwtExtendedException, ContextLibraryException)
export class JwtErrorFilter extends BaseExceptionFilter<HttpException> {
  /** @internal Created by the module. */
  constructor(private readonly errors: ErrorResponder) {
    super();
  }

  override async catch(exception: JwtExtendedException, host: ArgumentsHost): Promise<unknown> {
    // In RPC and WebSocket handlers the guard's failure arrives in the context's exception type.
    const library = libraryExceptionOf(exception) ?? exception;
    const response = await this.errors.toResponse(library);
    // Each execution context answers its own way (HTTP: Nest's base filter; GraphQL: the returned
    // error; RPC: an error observable).
    const context = contextAdapter(host);
    const reply = (error: HttpException) => super.catch(error, host);
    try {
      return context.sendError(response, host, reply);
    } catch (failure) {
      // e.g. a status the adapter refuses; a filter that rejects would leave the request hanging.
      logger.error(`The error loader's response could not be sent (${(failure as Error).message}); the default response was sent`);
      return context.sendError(library, host, reply);
    }
  }
}
