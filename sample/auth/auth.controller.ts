import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, Inject, Post, Req, UnauthorizedException } from '@nestjs/common';
import { CurrentUser, Jwt, JwtExtendedService, JwtPublic, JwtRequired, type JwtPayload, type RevocationStore } from 'nestjs-jwt-extended';
import { REVOCATIONS } from '../revocation/revocation.module.js';
import type { User } from '../users/users.service.js';
import { UsersService } from '../users/users.service.js';
import type { Credentials } from './credentials.dto.js';

/**
 * The header flow: tokens travel in `Authorization: Bearer <JWT>`. The global guard protects every
 * route; the ones without a token say `@JwtPublic()`, the others state what they need beyond an access token.
 */
@Controller()
export class AuthController {
  constructor(
    private readonly jwt: JwtExtendedService,
    private readonly users: UsersService,
    @Inject(REVOCATIONS) private readonly revocations: RevocationStore,
  ) {}

  /** Password login: a fresh access token and a refresh token. */
  @Post('auth/login')
  @HttpCode(200)
  @JwtPublic()
  async login(@Body() body: Credentials = {}) {
    const user = await this.checkPassword(body);
    return {
      access_token: await this.jwt.createAccessToken(user, { fresh: true }),
      refresh_token: await this.jwt.createRefreshToken(user),
    };
  }

  /**
   * Rotation: the refresh token is consumed; a new, non-fresh access token and the refresh token that
   * replaces it come back. Presenting a consumed one again revokes the whole family (401).
   */
  @Post('auth/refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true })
  async refresh(@CurrentUser() user: User, @Req() req: object) {
    const { accessToken, refreshToken } = await this.jwt.rotateRefreshToken(req, { identity: user });
    return { access_token: accessToken, refresh_token: refreshToken };
  }

  /** Re-enter the password to get a fresh token for sensitive routes (no refresh token). */
  @Post('auth/fresh-login')
  @HttpCode(200)
  @JwtPublic()
  async freshLogin(@Body() body: Credentials = {}) {
    const user = await this.checkPassword(body);
    return { access_token: await this.jwt.createAccessToken(user, { fresh: 300 }) };
  }

  /** Revokes the token presented (send the access token, then the refresh token). */
  @Delete('auth/logout')
  @JwtRequired({ verifyType: false })
  async logout(@Jwt() jwt: JwtPayload) {
    await this.revocations.revokeToken(jwt);
    // A token of a refresh-token family: the whole session (its other access and refresh tokens) ends too.
    if (typeof jwt.fam === 'string') await this.jwt.revokeRefreshFamily(jwt.fam);
    return { msg: `${jwt.type} token revoked` };
  }

  /** No declaration: the global guard's default, a valid access token. */
  @Get('me')
  me(@CurrentUser() user: User) {
    return user;
  }

  /** Fresh tokens only; changing the password revokes every earlier token of the user. */
  @Post('account/password')
  @HttpCode(200)
  @JwtRequired({ fresh: true })
  async changePassword(@CurrentUser() user: User, @Body() body: { newPassword?: unknown } = {}) {
    if (typeof body.newPassword !== 'string' || body.newPassword.length < 8) {
      throw new ForbiddenException({ msg: 'newPassword must have at least 8 characters' });
    }
    await this.users.setPassword(user.username, body.newPassword);
    await this.revocations.revokeAllForUser(user.username);
    return { msg: 'Password changed; log in again' };
  }

  /** Works with or without a token. */
  @Get('greeting')
  @JwtRequired({ optional: true })
  greeting(@CurrentUser() user: User | null) {
    return { msg: `Hello, ${user ? user.username : 'stranger'}!` };
  }

  /** Role check: the role claim comes from additionalClaims; tokenVerification re-checks it per request. */
  @Get('admin/stats')
  adminStats(@Jwt() jwt: JwtPayload<{ role: string }>) {
    if (jwt.role !== 'admin') throw new ForbiddenException({ msg: 'Admins only' });
    return { users: 2, uptimeSeconds: Math.round(process.uptime()) };
  }

  private async checkPassword(body: Credentials): Promise<User> {
    const user = await this.users.verify(body.username, body.password);
    if (!user) throw new UnauthorizedException({ msg: 'Bad username or password' });
    return user;
  }
}
