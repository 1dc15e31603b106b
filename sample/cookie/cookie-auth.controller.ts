import { Body, Controller, Delete, HttpCode, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import { CurrentUser, JwtExtendedService, JwtPublic, JwtRequired } from 'nestjs-jwt-extended';
import type { Credentials } from '../auth/credentials.dto.js';
import type { User } from '../users/users.service.js';
import { UsersService } from '../users/users.service.js';

/**
 * The browser flow: tokens live in HttpOnly cookies; the page echoes the readable
 * CSRF cookie in `X-CSRF-TOKEN` on every state-changing request (double submit).
 */
@Controller('cookie')
export class CookieAuthController {
  private readonly notes: { author: string; text: string }[] = [];

  constructor(
    private readonly jwt: JwtExtendedService,
    private readonly users: UsersService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @JwtPublic()
  async login(@Body() body: Credentials = {}, @Res({ passthrough: true }) res: object) {
    const user = await this.users.verify(body.username, body.password);
    if (!user) throw new UnauthorizedException({ msg: 'Bad username or password' });
    this.jwt.setAccessCookies(res, await this.jwt.createAccessToken(user, { fresh: true }));
    this.jwt.setRefreshCookies(res, await this.jwt.createRefreshToken(user));
    return { msg: `Logged in as ${user.username}` };
  }

  @Post('refresh')
  @HttpCode(200)
  @JwtRequired({ refresh: true, locations: 'cookies' })
  async refresh(@CurrentUser() user: User, @Req() req: object, @Res({ passthrough: true }) res: object) {
    // Rotation: the refresh cookie is replaced too.
    const { accessToken, refreshToken } = await this.jwt.rotateRefreshToken(req, { identity: user });
    this.jwt.setAccessCookies(res, accessToken);
    this.jwt.setRefreshCookies(res, refreshToken);
    return { msg: 'Access token refreshed' };
  }

  /** A state-changing route: POST with a cookie token needs the CSRF header. */
  @Post('notes')
  @JwtRequired({ locations: 'cookies' })
  addNote(@CurrentUser() user: User, @Body() body: { text?: unknown } = {}) {
    const note = { author: user.username, text: typeof body.text === 'string' ? body.text.slice(0, 200) : '' };
    this.notes.push(note);
    return { saved: note, count: this.notes.length };
  }

  /** Public: clears the cookies even when they hold an expired or broken token, CSRF header or not. */
  @Delete('logout')
  @JwtPublic()
  logout(@Res({ passthrough: true }) res: object) {
    this.jwt.unsetJwtCookies(res);
    return { msg: 'Logged out' };
  }
}
