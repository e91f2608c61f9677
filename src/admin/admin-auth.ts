import { cookieValue } from "../http/cookies.js";
import { GatewayError, errorBody } from "../http/gateway-error.js";
import { secretsEqual } from "../http/secret-compare.js";
import { sha256Hex } from "../http/text-hash.js";
import { readAtMost } from "../http/read-at-most.js";
import { loginPage } from "./login-page.js";

/** The cookie a browser holds after the admin login form: a digest of the token, never the token. */
export const ADMIN_COOKIE = "meshgate_admin";
const MAX_LOGIN_BODY = 4096;

export interface AdminAuthOptions {
  /** The admin token (Workers: the MESHGATE_ADMIN_TOKEN secret). */
  readonly token: string;
  /** Where the admin API is mounted, e.g. "/__meshgate": the cookie is scoped to it. */
  readonly path: string;
}

/**
 * Guards an admin API mounted under `path` on a public listener. A request passes (null) with
 * `Authorization: Bearer TOKEN` or the login cookie; `PATH/login` is a form that sets the cookie
 * (HttpOnly, Secure, SameSite=Strict, Path=PATH) so the dashboard opens in a browser, and
 * `PATH/logout` clears it. Secrets are compared as SHA-256 digests in constant time, so neither
 * the length nor a prefix of the token leaks through response timing.
 */
export async function adminAuth(request: Request, options: AdminAuthOptions): Promise<Response | null> {
  const url = new URL(request.url);
  const sub = url.pathname.slice(options.path.length);
  if (sub === "/login") return login(request, url, options);
  if (sub === "/logout") return redirect(`${options.path}/login`, clearCookie(options.path));
  const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (bearer !== undefined && (await secretsEqual(bearer, options.token))) return null;
  const cookie = cookieValue(request.headers.get("cookie") ?? undefined, ADMIN_COOKIE);
  if (cookie !== undefined && (await secretsEqual(cookie, await cookieFor(options.token)))) return null;
  // A browser asking for a page gets the form; API clients get the JSON error.
  if (request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html")) return redirect(`${options.path}/login`);
  const err = new GatewayError("unauthenticated", "admin API needs the admin bearer token");
  return new Response(errorBody(err), { status: err.status, headers: { "content-type": "application/json", "www-authenticate": 'Bearer realm="meshgate-admin"' } });
}

async function login(request: Request, url: URL, options: AdminAuthOptions): Promise<Response> {
  if (request.method === "GET") return html(loginPage({ action: `${options.path}/login` }), 200);
  if (request.method !== "POST") return new Response(null, { status: 405, headers: { allow: "GET, POST" } });
  // Another site must not post a login into this one (login CSRF).
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== url.origin) return html(loginPage({ action: `${options.path}/login`, error: "cross-site login refused" }), 403);
  const body = await readBounded(request, MAX_LOGIN_BODY);
  if (body === null) return html(loginPage({ action: `${options.path}/login`, error: "login form too large" }), 413);
  const token = new URLSearchParams(body).get("token");
  if (token === null || !(await secretsEqual(token, options.token))) {
    return html(loginPage({ action: `${options.path}/login`, error: "wrong token" }), 401);
  }
  const cookie = `${ADMIN_COOKIE}=${await cookieFor(options.token)}; Path=${options.path}; HttpOnly; Secure; SameSite=Strict; Max-Age=43200`;
  return redirect(`${options.path}/dashboard`, cookie);
}

/** The body as text, or null past `max` bytes (declared or streamed): a login is a few bytes. */
async function readBounded(request: Request, max: number): Promise<string | null> {
  if (Number(request.headers.get("content-length") ?? 0) > max) return null;
  if (request.body === null) return "";
  const bytes = await readAtMost(request.body, max);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/** The cookie value for a token: rotating the token logs every browser out. */
function cookieFor(token: string): Promise<string> {
  return sha256Hex(`meshgate-admin-cookie\0${token}`);
}

function clearCookie(path: string): string {
  return `${ADMIN_COOKIE}=; Path=${path}; HttpOnly; Secure; SameSite=Strict; Max-Age=0`;
}

function redirect(location: string, cookie?: string): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  if (cookie !== undefined) headers.set("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}

function html(body: string, status: number): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}
