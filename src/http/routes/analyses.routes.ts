import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AnalysisService } from '../../services/analysis.service.js';
import { readers, requirePrincipal } from '../access-control.js';
import { analysisSchema, errorResponses, idParams } from '../schemas.js';
import { analysisView } from '../views.js';

export const analysesRoutes: FastifyPluginAsyncZod<{ analysisService: AnalysisService }> = async (
  app,
  deps,
) => {
  app.get(
    '/api/v1/analyses/:id',
    {
      config: { access: readers },
      schema: {
        summary: 'Analysis status, progress and, once done, the band, detector results and full report',
        tags: ['analyses'],
        params: idParams,
        response: { 200: analysisSchema, ...errorResponses },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      return analysisView(await deps.analysisService.get(principal.orgId, request.params.id));
    },
  );
};
