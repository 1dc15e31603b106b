import { type ArgumentsHost, Catch, type HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { contextAdapter } from '../request/execution-contexts.js';
import { ErrorResponder } from './error-responder.service.js';
import { JwtExtendedException } from './exceptions.js';

const logger = new Logger('JwtExtendedModule');

/**
 * Gives error loaders the word on every library exception that reaches Nest: from
 * `JwtGuard`, from a custom guard or middleware calling `verifyJwtInRequest`, from a
 * handler calling `decodeToken` — as Flask's app-wide error handlers do. Code that
 * catches the exception itself still gets the library's class. The module registers
 * it app-wide (`APP_FILTER`) only when an error loader is configured; with several
 * modules, the one that catches hands each exception to its own module's responder.
 */
@Catch(JwtExtendedException)
export class JwtErrorFilter extends BaseExceptionFilter<HttpException> {
  /** @internal Created by the module. */
  constructor(private readonly errors: ErrorResponder) {
    super();
  }

  override async catch(exception: JwtExtendedException, host: ArgumentsHost): Promise<void> {
    const response = await this.errors.toResponse(exception);
    const sendError = contextAdapter(host).sendError;
    if (sendError) {
      // A context Nest's HTTP filter cannot answer in (a WebSocket gateway bound to this filter).
      sendError(response, host);
      return;
    }
    try {
      super.catch(response, host);
    } catch (failure) {
      // e.g. a status the adapter refuses; a filter that rejects would leave the request hanging.
      logger.error(`The error loader's response could not be sent (${(failure as Error).message}); the default response was sent`);
      super.catch(exception, host);
    }
  }
}
