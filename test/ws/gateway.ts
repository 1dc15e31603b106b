import type { IncomingMessage } from 'node:http';
import { Injectable, UseFilters } from '@nestjs/common';
import { type OnGatewayConnection, MessageBody, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import {
  CurrentUser,
  InMemoryBlocklist,
  Jwt,
  JwtErrorFilter,
  JwtExtendedService,
  JwtHeader,
  JwtIdentity,
  JwtLocation,
  JwtRequired,
  type JwtExtendedLoaders,
  type JwtPayload,
  type JwtProtectedHeader,
  type TokenVerificationLoader,
  type UserLookupLoader,
} from '../../lib/index.js';
import { disconnect, handshakeUrl, push } from './ws-support.js';

/** The blocklist the gateway's tests revoke tokens in. */
@Injectable()
export class WsStore extends InMemoryBlocklist {}

/** Every subject has a user except 'ghost'; claims verification fails for 'unverified'. */
@Injectable()
export class WsUsers implements UserLookupLoader, TokenVerificationLoader {
  lookupUser(_header: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub === 'ghost' ? null : { name: payload.sub };
  }
  verifyToken(_header: JwtProtectedHeader, payload: JwtPayload) {
    return payload.sub !== 'unverified';
  }
}

/** The loaders of the gateway's module. */
export const WS_LOADERS = { blocklist: WsStore, userLookup: WsUsers, tokenVerification: WsUsers } satisfies JwtExtendedLoaders;

/** How many times each handler ran: a refused message never reaches its handler. */
export const handlerRuns = new Map<string, number>();
const ran = (name: string) => handlerRuns.set(name, (handlerRuns.get(name) ?? 0) + 1);

/**
 * One gateway for both adapters. A handshake URL with `strict=1` is verified in
 * handleConnection (verifyJwtInHandshake): the client then gets `welcome`, or the
 * `exception` and a closed connection.
 */
@WebSocketGateway()
export class ProfileGateway implements OnGatewayConnection {
  constructor(private readonly jwt: JwtExtendedService) {}

  async handleConnection(client: object, request?: IncomingMessage): Promise<void> {
    const url = handshakeUrl(client, request);
    if (!url.includes('strict=1')) return;
    try {
      const verified = await this.jwt.verifyJwtInHandshake(client, url.includes('optional=1') ? { optional: true } : undefined);
      push(client, 'welcome', { sub: verified?.payload.sub ?? null });
    } catch (error) {
      push(client, 'exception', error instanceof WsException ? error.getError() : `not a WsException: ${String(error)}`);
      disconnect(client);
    }
  }

  @JwtRequired()
  @SubscribeMessage('whoami')
  whoami(
    @JwtIdentity() identity: unknown,
    @JwtLocation() location: unknown,
    @Jwt('type') type: unknown,
    @JwtHeader() header: { alg?: string },
    @CurrentUser() user: unknown,
    @MessageBody() body: unknown,
  ) {
    ran('whoami');
    return { identity, location, type, alg: header.alg, user, body };
  }

  @JwtRequired({ fresh: true })
  @SubscribeMessage('fresh')
  fresh(@JwtIdentity() identity: unknown) {
    ran('fresh');
    return { identity };
  }

  @JwtRequired({ refresh: true })
  @SubscribeMessage('refresh')
  refresh(@JwtIdentity() identity: unknown) {
    ran('refresh');
    return { identity };
  }

  @JwtRequired({ optional: true })
  @SubscribeMessage('optional')
  optional(@Jwt() payload: JwtPayload, @JwtLocation() location: unknown) {
    ran('optional');
    return { sub: payload.sub ?? null, location };
  }

  @JwtRequired({ locations: ['json'] })
  @SubscribeMessage('json')
  json() {
    ran('json');
    return {};
  }

  /** A library exception thrown by a handler (not the guard): JwtErrorFilter sends it. */
  @UseFilters(JwtErrorFilter)
  @SubscribeMessage('decode')
  async decode(@MessageBody() token: string) {
    return { sub: (await this.jwt.decodeToken(token)).sub };
  }

  @SubscribeMessage('ping')
  ping() {
    return { pong: true };
  }
}
