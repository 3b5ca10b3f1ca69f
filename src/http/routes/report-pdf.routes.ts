import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReportPdfService } from '../../services/report-pdf.service.js';
import { readers, requirePrincipal } from '../access-control.js';
import { errorResponses, idParams } from '../schemas.js';

const pdfBytes = z.string().meta({ format: 'binary' });

export const reportPdfRoutes: FastifyPluginAsyncZod<{ reportPdf: ReportPdfService }> = async (app, deps) => {
  app.get(
    '/api/v1/analyses/:id/report.pdf',
    {
      config: { access: readers },
      schema: {
        summary: 'The analysis report as a PDF: band, reasons, checks, evidence record and a verify QR code',
        description:
          'A download (`Content-Disposition: attachment`). The band in plain words first, the reasons, coverage and compression profile, one section per check, then the statement SHA-256, leaf index, log key and tree head, with a QR code linking to `PUBLIC_URL/verify?leaf=…&statement=…` (no link when PUBLIC_URL is unset: the PDF says so). The same analysis and tree head give the same bytes. 409 `analysis-not-done` until the analysis is done, 409 `evidence-not-ready` until its statement is in the log.',
        tags: ['evidence'],
        params: idParams,
        response: {
          200: { description: 'the PDF report', content: { 'application/pdf': { schema: pdfBytes } } },
          409: errorResponses[404],
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { analysisId, pdf } = await deps.reportPdf.render(principal.orgId, request.params.id);
      return (
        reply
          .headers({
            'content-type': 'application/pdf',
            // The id is a UUID: the quoted form is exact and safe in every client.
            'content-disposition': `attachment; filename="guardian-report-${analysisId}.pdf"`,
            'content-length': String(pdf.byteLength),
            'cache-control': 'no-store',
            'x-content-type-options': 'nosniff',
            'content-security-policy': "default-src 'none'; sandbox",
          })
          // Bytes go out as they are; the typed reply only knows the JSON shapes of the schema.
          .send(Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength) as never)
      );
    },
  );
};
