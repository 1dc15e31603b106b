import { Controller, Get, Header } from '@nestjs/common';
import { JwtPublic } from 'nestjs-jwt-extended';

/** A minimal page that drives the cookie + CSRF flow from a real browser. */
const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>nestjs-jwt-extended sample</title>
<style>body{font:15px system-ui;margin:2rem;max-width:40rem}button{margin:.2rem}pre{background:#f4f4f4;padding:1rem}</style></head>
<body>
<h1>nestjs-jwt-extended: cookies + CSRF</h1>
<form id="login">
  <input id="username" value="alice" autocomplete="username">
  <input id="password" type="password" value="wonderland" autocomplete="current-password">
  <button id="login-button">Log in</button>
</form>
<p>
  <button id="note">Add a note (POST + CSRF header)</button>
  <button id="refresh">Refresh access token</button>
  <button id="logout">Log out</button>
</p>
<p>Last status: <output id="status">-</output></p>
<pre id="log"></pre>
<script>
  // The CSRF cookies are readable on purpose: the page sends their value back in a header.
  const cookie = (name) => document.cookie.split('; ').find((c) => c.startsWith(name + '='))?.slice(name.length + 1);
  async function call(method, url, body, csrfCookie) {
    // No Content-Type without a body: Fastify refuses an empty JSON body with 400.
    const headers = body ? { 'Content-Type': 'application/json' } : {};
    if (csrfCookie && cookie(csrfCookie)) headers['X-CSRF-TOKEN'] = cookie(csrfCookie);
    const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined, credentials: 'same-origin' });
    const data = await res.json().catch(() => ({}));
    document.getElementById('log').textContent += method + ' ' + url + ' -> ' + res.status + ' ' + (data.msg ?? JSON.stringify(data)) + '\\n';
    document.getElementById('status').textContent = String(res.status);
  }
  document.getElementById('login').addEventListener('submit', (e) => {
    e.preventDefault();
    call('POST', '/cookie/login', { username: document.getElementById('username').value, password: document.getElementById('password').value });
  });
  document.getElementById('note').onclick = () => call('POST', '/cookie/notes', { text: 'hello from the browser' }, 'csrf_access_token');
  document.getElementById('refresh').onclick = () => call('POST', '/cookie/refresh', null, 'csrf_refresh_token');
  document.getElementById('logout').onclick = () => call('DELETE', '/cookie/logout');
</script>
</body>
</html>
`;

@Controller()
@JwtPublic()
export class PageController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }
}
