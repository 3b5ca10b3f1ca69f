import { useRef } from 'react';
import { useMe } from '../../session/session-context.js';
import { ErrorMessage } from '../../components/error-message.js';
import { CoverageAndCompression } from './coverage-compression.js';
import { DetectorCard } from './detector-card.js';
import { MediaLifecycle } from './media-lifecycle.js';
import { MediaSection, type PlayerControl } from './media-section.js';
import { ProvenanceSection } from './provenance-section.js';
import { ReportActions } from './report-actions.js';
import type { AnalysisView, ArtifactEntry, ReportView } from './report-shape.js';
import { SharePanel } from './share-panel.js';
import { ResultSummary } from './result-summary.js';
import { useArtifacts } from './use-analysis.js';

/** What a share link hands over in place of the signed-in routes: signed links, no actions. */
export interface SharedContent {
  mediaUrl: string | null;
  artifacts: ArtifactEntry[];
}

/**
 * A finished analysis: band and reasons first, then what the checks saw, each check, the media, provenance.
 * `shared`: the read-only copy a share link shows (no downloads, re-runs or share panel).
 */
export function FinishedReport({
  analysis,
  report,
  shared,
}: {
  analysis: AnalysisView;
  report: ReportView;
  shared?: SharedContent;
}) {
  const player = useRef<PlayerControl | null>(null);
  const own = useArtifacts(analysis.id, shared === undefined);
  const { artifacts, error } = shared ? { artifacts: shared.artifacts, error: null } : own;
  const mediaUrl = shared ? shared.mediaUrl : `/api/v1/media/${encodeURIComponent(analysis.mediaId)}/content`;
  const isVideo = (report.compression?.kind ?? report.sampling?.kind) === 'video';
  const seek = isVideo
    ? (seconds: number) => {
        player.current?.seek(seconds);
        document.getElementById('report-media')?.scrollIntoView();
      }
    : undefined;
  return (
    <>
      <ResultSummary report={report} />
      <CoverageAndCompression report={report} />
      {mediaUrl && <MediaSection report={report} src={mediaUrl} playerRef={player} />}
      <section aria-labelledby="report-checks" className="report-section">
        <h2 id="report-checks">Checks</h2>
        <ErrorMessage error={error} />
        <div className="detector-grid">
          {report.detectors.map((detector) => (
            <DetectorCard
              key={detector.id}
              detector={detector}
              artifacts={artifacts.filter((artifact) => artifact.detector === detector.id)}
              calibration={report.calibration}
              onSeek={seek}
            />
          ))}
        </div>
      </section>
      <ProvenanceSection report={report} />
      {!shared && <ReportActions analysis={analysis} />}
      {!shared && <OwnerSharePanel analysisId={analysis.id} />}
      {!shared && <OwnerMediaLifecycle analysis={analysis} />}
      <p className="muted">
        Pipeline {report.pipelineVersion ?? analysis.pipelineVersion}
        {report.createdAt ? `, report made ${new Date(report.createdAt).toLocaleString('en-GB')}` : ''}.
      </p>
    </>
  );
}

/** Only analysts and admins manage share links (the API refuses the others anyway). */
function OwnerSharePanel({ analysisId }: { analysisId: string }) {
  const me = useMe();
  if (me.user.role !== 'analyst' && me.user.role !== 'admin') return null;
  return <SharePanel analysisId={analysisId} />;
}

/** The legal hold and deletion controls for the signed-in reader (never in a shared copy). */
function OwnerMediaLifecycle({ analysis }: { analysis: AnalysisView }) {
  const me = useMe();
  return (
    <MediaLifecycle
      mediaId={analysis.mediaId}
      initialHold={analysis.mediaLegalHold ?? null}
      role={me.user.role}
      userId={me.user.id}
    />
  );
}
