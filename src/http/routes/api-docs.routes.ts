import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import { roles } from '../../db/schema.js';
import type { AccessPolicy } from '../access-control.js';

/** Same audience as GET /api/v1/openapi.json: any signed-in user or API key of the deployment. */
const docsAccess: AccessPolicy = { roles };

/**
 * The API reference, rendered by Swagger UI from the served OpenAPI document. Its own files only: no inline
 * script or style, so its CSP is as strict as the app's, scoped to /api/docs (Swagger UI sets element styles
 * through the DOM, which CSP does not restrict). No relaxation: nothing inline is allowed, no other origin.
 */
export const apiDocsRoutes: FastifyPluginAsync = async (app) => {
  // Swagger UI registers its routes itself; each gets the docs policy here, in place, so the catalog sees it.
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    Object.assign(route.config, { access: docsAccess });
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    // BaseLayout: no top bar, whose logo is an SVG with an inline <style> the CSP would (rightly) block.
    uiConfig: { layout: 'BaseLayout', validatorUrl: null, deepLinking: false, tryItOutEnabled: false },
    staticCSP: {
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'img-src': "'self' data:",
      'connect-src': "'self'",
      'font-src': "'self'",
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
      'object-src': "'none'",
      'form-action': "'self'",
    },
  });
};
