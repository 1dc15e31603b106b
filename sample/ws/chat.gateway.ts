import { MessageBody, type OnGatewayConnection, SubscribeMessage, WebSocketGateway, WsException } from '@nestjs/websockets';
import { CurrentUser, JwtExtendedService, JwtIdentity } from 'nestjs-jwt-extended';
import type { Socket } from 'socket.io';
import type { User } from '../users/users.service.js';

/**
 * The same tokens over socket.io (`/chat` namespace): sent as `auth: { token }` (or the
 * `Authorization` header, or a cookie from an origin in `wsAllowedOrigins`). No declaration is
 * needed: the global guard verifies every message, so a token that expires or is revoked stops
 * working mid-connection.
 */
@WebSocketGateway({ namespace: 'chat' })
export class ChatGateway implements OnGatewayConnection {
  constructor(private readonly jwt: JwtExtendedService) {}

  /** A handshake without a valid token is told why and dropped at once. */
  async handleConnection(client: Socket): Promise<void> {
    try {
      await this.jwt.verifyJwtInHandshake(client);
    } catch (error) {
      client.emit('exception', error instanceof WsException ? error.getError() : { status: 500, msg: 'Internal error' });
      client.disconnect(true);
    }
  }

  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: User) {
    return { username: user.username, role: user.role };
  }

  @SubscribeMessage('say')
  say(@JwtIdentity() from: string, @MessageBody() text: string) {
    return { from, text };
  }
}
