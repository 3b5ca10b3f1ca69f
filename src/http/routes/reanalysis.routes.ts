import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ReanalysisService } from '../../services/reanalysis.service.js';
import { requirePrincipal, writers } from '../access-control.js';
import { analysisSchema, errorResponses, idParams, problemSchema } from '../schemas.js';
import { analysisView } from '../views.js';
import { clientOf } from './auth.routes.js';

export const reanalysisRoutes: FastifyPluginAsyncZod<{ reanalysis: ReanalysisService }> = async (
  app,
  deps,
) => {
  app.post(
    '/api/v1/media/:id/analyses',
    {
      config: { access: writers },
      schema: {
        summary: 'Analyse the media again with the current pipeline (a new analysis; earlier ones stay)',
        description:
          'Answers 202 with the new analysis, queued, and `Location` of it; audited as `analysis.rerun`. While an analysis of the media is queued or running the answer is 409 `analysis-in-progress` with its `analysisId`.',
        tags: ['analyses'],
        params: idParams,
        response: { 202: analysisSchema, 409: problemSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const analysis = await deps.reanalysis.rerun(principal, request.params.id, clientOf(request));
      return reply
        .status(202)
        .header('location', `/api/v1/analyses/${analysis.id}`)
        .send(analysisView(analysis));
    },
  );
};
