import { useRef } from 'react';
import { ErrorMessage } from '../../components/error-message.js';
import { CoverageAndCompression } from './coverage-compression.js';
import { DetectorCard } from './detector-card.js';
import { MediaSection, type PlayerControl } from './media-section.js';
import { ProvenanceSection } from './provenance-section.js';
import { ReportActions } from './report-actions.js';
import type { AnalysisView, ReportView } from './report-shape.js';
import { ResultSummary } from './result-summary.js';
import { useArtifacts } from './use-analysis.js';

/** A finished analysis: band and reasons first, then what the checks saw, each check, the media, provenance. */
export function FinishedReport({ analysis, report }: { analysis: AnalysisView; report: ReportView }) {
  const player = useRef<PlayerControl | null>(null);
  const { artifacts, error } = useArtifacts(analysis.id, true);
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
      <MediaSection report={report} mediaId={analysis.mediaId} playerRef={player} />
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
      <ReportActions analysis={analysis} />
      <p className="muted">
        Pipeline {report.pipelineVersion ?? analysis.pipelineVersion}
        {report.createdAt ? `, report made ${new Date(report.createdAt).toLocaleString('en-GB')}` : ''}.
      </p>
    </>
  );
}
