import type { Analysis } from '../db/schema.js';

/** Event types an endpoint may subscribe to (`webhook.test` is sent only on request, to one endpoint). */
export const webhookEventTypes = ['analysis.completed', 'analysis.failed', 'evidence.anchored'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number] | 'webhook.test';

/** What is signed and sent: ids, outcomes and links only (never media bytes, never secrets). */
export interface WebhookEvent {
  /** Null: every organisation with an endpoint subscribed to it (events about the shared log). */
  orgId: string | null;
  type: WebhookEventType;
  at: Date;
  data: Record<string, unknown>;
}

export const webhookPayload = (event: WebhookEvent) =>
  JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data: event.data });

function analysisLinks(publicUrl: string, analysisId: string) {
  return {
    report: `${publicUrl}/api/v1/analyses/${analysisId}`,
    pdf: `${publicUrl}/api/v1/analyses/${analysisId}/report.pdf`,
    web: `${publicUrl}/analyses/${analysisId}`,
  };
}

export function analysisCompletedEvent(
  analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
  result: { band: string },
  context: { at: Date; publicUrl: string },
): WebhookEvent {
  return {
    orgId: analysis.org_id,
    type: 'analysis.completed',
    at: context.at,
    data: {
      analysisId: analysis.id,
      mediaId: analysis.media_id,
      status: 'done',
      band: result.band,
      links: analysisLinks(context.publicUrl, analysis.id),
    },
  };
}

export function analysisFailedEvent(
  analysis: Pick<Analysis, 'id' | 'org_id' | 'media_id'>,
  failure: { code: string },
  context: { at: Date; publicUrl: string },
): WebhookEvent {
  return {
    orgId: analysis.org_id,
    type: 'analysis.failed',
    at: context.at,
    data: {
      analysisId: analysis.id,
      mediaId: analysis.media_id,
      status: 'failed',
      // The stable code only: the detail may name internal paths.
      errorCode: failure.code,
      links: analysisLinks(context.publicUrl, analysis.id),
    },
  };
}

/**
 * A signed tree head of the transparency log got its anchor: every analysis logged at a leaf index below
 * `treeSize` is now covered (its evidence bundle carries the anchor). Nothing organisation-specific.
 */
export function evidenceAnchoredEvent(
  anchor: {
    id: number;
    kind: string;
    tree_size: number;
    tree_head_sha256: string;
    anchored_at: Date | null;
  },
  context: { at: Date; publicUrl: string },
): WebhookEvent {
  return {
    orgId: null,
    type: 'evidence.anchored',
    at: context.at,
    data: {
      anchorId: Number(anchor.id),
      kind: anchor.kind,
      treeSize: Number(anchor.tree_size),
      treeHeadSha256: anchor.tree_head_sha256,
      anchoredAt: (anchor.anchored_at ?? context.at).toISOString(),
      links: { anchors: `${context.publicUrl}/api/v1/log/anchors` },
    },
  };
}
