import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SecondFactorProof, TwoFactorService } from '../../services/two-factor.service.js';
import {
  admins,
  twoFactorEnrolment,
  requirePrincipal,
  requireUserSession,
  secondFactorStep,
  signedInUser,
} from '../access-control.js';
import { loginResponse } from '../account-schemas.js';
import {
  confirmBody,
  enrolBody,
  enrolResponse,
  organisationPatchBody,
  organisationResponse,
  reauthenticationBody,
  recoveryCodesResponse,
  secondFactorBody,
  twoFactorStatusResponse,
} from '../account-security-schemas.js';
import { errorResponses, problemSchema } from '../schemas.js';
import type { SessionCookies } from '../session-cookie.js';
import { clientOf } from './auth.routes.js';

export interface TwoFactorRoutesDeps {
  twoFactor: TwoFactorService;
  cookies: SessionCookies;
}

const tags = ['auth'];
const noContent = z.null().describe('No content');
const proofOf = (body: { code: string } | { recoveryCode: string }): SecondFactorProof =>
  'code' in body ? { code: body.code } : { recoveryCode: body.recoveryCode };

export const twoFactorRoutes: FastifyPluginAsyncZod<TwoFactorRoutesDeps> = async (app, deps) => {
  app.post(
    '/api/v1/auth/login/2fa',
    {
      config: { access: secondFactorStep },
      schema: {
        summary:
          'Second login step: a TOTP code or a recovery code; completes the session (new cookie token)',
        tags,
        body: secondFactorBody,
        response: { 200: loginResponse, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { user, session } = await deps.twoFactor.completeLogin(
        requireUserSession(request),
        proofOf(request.body),
        clientOf(request),
      );
      deps.cookies.set(reply, session.token);
      return { user, csrfToken: session.csrfToken, secondFactorRequired: false };
    },
  );

  app.get(
    '/api/v1/auth/2fa',
    {
      config: { access: twoFactorEnrolment },
      schema: {
        summary: 'Whether TOTP is on, pending confirmation, and how many recovery codes are left',
        tags,
        response: { 200: twoFactorStatusResponse, ...errorResponses },
      },
    },
    async (request) => deps.twoFactor.status(requireUserSession(request)),
  );

  app.post(
    '/api/v1/auth/2fa/enrol',
    {
      config: { access: twoFactorEnrolment },
      schema: {
        summary: 'Start TOTP enrolment (password required): the otpauth URI and secret, shown once',
        tags,
        body: enrolBody,
        response: { 200: enrolResponse, 409: problemSchema, ...errorResponses },
      },
    },
    async (request) => {
      const enrolment = await deps.twoFactor.enrol(
        requireUserSession(request),
        request.body,
        clientOf(request),
      );
      return { ...enrolment, period: 30 as const, digits: 6 as const, algorithm: 'SHA1' as const };
    },
  );

  app.post(
    '/api/v1/auth/2fa/confirm',
    {
      config: { access: twoFactorEnrolment },
      schema: {
        summary:
          'Confirm enrolment with a code: TOTP is on, other sessions end; returns 10 recovery codes, shown once',
        tags,
        body: confirmBody,
        response: { 200: recoveryCodesResponse, 409: problemSchema, ...errorResponses },
      },
    },
    async (request) => ({
      recoveryCodes: await deps.twoFactor.confirm(
        requireUserSession(request),
        request.body.code,
        clientOf(request),
      ),
    }),
  );

  app.post(
    '/api/v1/auth/2fa/disable',
    {
      config: { access: signedInUser },
      schema: {
        summary: 'Turn TOTP off (password and a code required); other sessions end',
        tags,
        body: reauthenticationBody,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.twoFactor.disable(
        requireUserSession(request),
        { password: request.body.password, proof: proofOf(request.body) },
        clientOf(request),
      );
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/recovery-codes',
    {
      config: { access: signedInUser },
      schema: {
        summary: 'Replace the recovery codes (password and a code required); the old ones stop working',
        tags,
        body: reauthenticationBody,
        response: { 200: recoveryCodesResponse, ...errorResponses },
      },
    },
    async (request) => ({
      recoveryCodes: await deps.twoFactor.regenerateRecoveryCodes(
        requireUserSession(request),
        { password: request.body.password, proof: proofOf(request.body) },
        clientOf(request),
      ),
    }),
  );

  app.patch(
    '/api/v1/organisation',
    {
      config: { access: admins },
      schema: {
        summary: "Change the organisation's security settings (requireAdmin2fa: admins must enrol TOTP)",
        tags: ['organisation'],
        body: organisationPatchBody,
        response: { 200: organisationResponse, ...errorResponses },
      },
    },
    async (request) =>
      deps.twoFactor.setAdminRequirement(
        requirePrincipal(request),
        request.body.requireAdmin2fa,
        clientOf(request),
      ),
  );
};
