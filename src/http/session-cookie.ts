import type { FastifyReply, FastifyRequest } from 'fastify';

const secureName = '__Host-guardian_session';
const insecureName = 'guardian_session';

/**
 * The session cookie: `__Host-` + Secure + HttpOnly + SameSite=Lax + Path=/ with no Domain. Only when the
 * deployment allows it (development or test, bound to loopback) does a plain-http request get the relaxed
 * `guardian_session` without Secure, so a browser on http://127.0.0.1 can sign in; never in production.
 */
export interface SessionCookies {
  read(request: FastifyRequest): string | undefined;
  set(reply: FastifyReply, token: string): void;
  clear(reply: FastifyReply): void;
}

export function createSessionCookies(options: { allowInsecureHttp: boolean }): SessionCookies {
  const secure = (request: FastifyRequest) => !options.allowInsecureHttp || request.protocol === 'https';
  const attributes = (request: FastifyRequest) => ({
    name: secure(request) ? secureName : insecureName,
    options: {
      path: '/',
      httpOnly: true,
      secure: secure(request),
      sameSite: 'lax' as const,
    },
  });
  return {
    read: (request) => request.cookies[attributes(request).name],
    set(reply, token) {
      const { name, options: cookieOptions } = attributes(reply.request);
      reply.setCookie(name, token, cookieOptions);
    },
    clear(reply) {
      const { name, options: cookieOptions } = attributes(reply.request);
      reply.clearCookie(name, cookieOptions);
    },
  };
}
