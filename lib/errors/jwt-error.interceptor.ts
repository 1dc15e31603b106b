import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { type Observable, catchError, from, mergeMap, throwError } from 'rxjs';
import { ErrorResponder } from './error-responder.service.js';
import { JwtExtendedException } from './exceptions.js';

/**
 * Gives error loaders the last word on library exceptions thrown inside handlers
 * (a `decodeToken` or `verifyJwtInRequest` call), as Flask's app-wide handlers do.
 * Registered app-wide only when an error loader is configured.
 */
@Injectable()
export class JwtErrorInterceptor implements NestInterceptor {
  constructor(private readonly errors: ErrorResponder) {}

  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next
      .handle()
      .pipe(
        catchError((error: unknown) =>
          error instanceof JwtExtendedException
            ? from(this.errors.toResponse(error)).pipe(mergeMap((response) => throwError(() => response)))
            : throwError(() => error),
        ),
      );
  }
}
