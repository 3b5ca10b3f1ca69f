import { useRef } from 'react';
import { ErrorMessage } from '../../components/error-message';
import { CoverageAndCompression } from './coverage-compression';
import { DetectorCard } from './detector-card';
import { MediaSection, type PlayerControl } from './media-section';
import { ProvenanceSection } from './provenance-section';
import { ReportActions } from './report-actions';
import type { AnalysisView, ReportView } from './report-shape';
import { ResultSummary } from './result-summary';
import { useArtifacts } from './use-analysis';

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
