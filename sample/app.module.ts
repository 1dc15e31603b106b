import { type DynamicModule, Module } from '@nestjs/common';
import { JwtExtendedModule } from 'nestjs-jwt-extended';
import { AuthController } from './auth/auth.controller.js';
import { CookieAuthController } from './cookie/cookie-auth.controller.js';
import { SampleGraphQLModule } from './graphql/graphql.module.js';
import { type SampleKeySettings, sampleKeyOptions } from './keys/signing-keys.js';
import { PageController } from './pages/page.controller.js';
import { REVOCATIONS, redisModule, revocationStore } from './revocation/revocation.module.js';
import { ReuseAlarm, refreshFamilies } from './rotation/refresh-families.js';
import { UserLoaders } from './users/user-loaders.js';
import { UsersService } from './users/users.service.js';
import { ChatGateway } from './ws/chat.gateway.js';

export interface SampleSettings extends SampleKeySettings {
  /** HS256 secret, at least 32 bytes: tokens are signed with an EdDSA key, HS256 ones from before are still accepted. */
  secret: string;
  /** Use Redis for revocation when set; the in-memory store otherwise. */
  redisUrl?: string;
  /** The HTTP adapter: picks the GraphQL driver (Apollo on Express, Mercurius on Fastify). Default Express. */
  adapter?: 'express' | 'fastify';
}

@Module({ providers: [UsersService], exports: [UsersService] })
class UsersModule {}

@Module({})
export class AppModule {
  static register(settings: SampleSettings): DynamicModule {
    const Store = revocationStore(settings.redisUrl);
    return {
      module: AppModule,
      imports: [
        JwtExtendedModule.forRootAsync({
          imports: [UsersModule, redisModule(settings.redisUrl)],
          useFactory: async () => ({
            secretKey: settings.secret,
            ...(await sampleKeyOptions(settings)),
            tokenLocation: ['headers', 'cookies'],
            accessTokenExpires: '15m',
            refreshTokenExpires: '30d',
            cookieSameSite: 'Strict',
            // Browsers on these origins may open the chat WebSocket with the token cookie.
            wsAllowedOrigins: ['http://localhost:3000', 'http://127.0.0.1:3000'],
            // Refresh tokens are single-use; a repeat within 10 s (two tabs) gets the same successor.
            refreshTokenRotation: { reuseInterval: 10 },
          }),
          loaders: {
            userIdentity: UserLoaders,
            additionalClaims: UserLoaders,
            tokenVerification: UserLoaders,
            userLookup: UserLoaders,
            blocklist: Store,
            refreshTokenStore: refreshFamilies(settings.redisUrl),
            refreshTokenReuse: ReuseAlarm,
          },
          // Every route needs an access token unless it says otherwise (@JwtPublic(), @JwtRequired({ ... })).
          globalGuard: true,
        }),
        UsersModule,
        SampleGraphQLModule.forAdapter(settings.adapter ?? 'express'),
      ],
      controllers: [AuthController, CookieAuthController, PageController],
      // The store class is exported by JwtExtendedModule; controllers inject it by this token.
      providers: [{ provide: REVOCATIONS, useExisting: Store }, ChatGateway],
    };
  }
}
