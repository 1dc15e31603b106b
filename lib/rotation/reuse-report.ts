import { Logger } from '@nestjs/common';
import { LoaderTimeoutException } from '../errors/exceptions.js';
import type { RefreshTokenReuseLoader } from '../loaders/rotation-loaders.interface.js';
import { settleLoader } from '../loaders/settle-loader.js';
import type { JwtPayload } from '../tokens/jwt.interfaces.js';

const logger = new Logger('JwtExtendedModule');

/**
 * Tells the `refreshTokenReuse` loader (under `loaderTimeout`) about a reuse whose family the
 * store has already revoked. The answer stays 401 whatever the loader does: a failing alert must
 * not turn "revoked" into a 500 or 503, so its failure is logged (a time-out already is), not thrown.
 */
export async function tellReuse(loader: RefreshTokenReuseLoader | undefined, payload: JwtPayload, timeoutMs: number): Promise<void> {
  if (!loader) return;
  try {
    await settleLoader(loader.onRefreshTokenReuse(payload), 'refreshTokenReuse', timeoutMs);
  } catch (error) {
    if (!(error instanceof LoaderTimeoutException)) {
      logger.error(`refreshTokenReuse loader failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
