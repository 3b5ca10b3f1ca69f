import type { ReactNode } from 'react';
import type { ReportView } from './report-shape.js';
import { formatBitrate, overallCoverageWords, withoutVerdictWords } from './report-wording.js';
import { formatTime } from './timeline-scale.js';

const signalWords = {
  high: 'High: fine detail and sensor noise are largely kept',
  medium: 'Medium: fine detail and noise are partly removed',
  low: 'Low: heavy compression removed much of what picture checks read',
} as const;

const reencodeWords = {
  none: 'None seen',
  weak: 'Weak signs of a second encoding',
  strong: 'Strong signs that the file was encoded at least twice',
} as const;

/** How much of the media the checks saw, and how much forensic signal its compression left: read before the band. */
export function CoverageAndCompression({ report }: { report: ReportView }) {
  const { compression, sampling, integrity } = report;
  return (
    <section aria-labelledby="report-coverage" className="report-section">
      <h2 id="report-coverage">Coverage and compression</h2>
      <dl className="report-facts">
        <Fact term="Coverage">{overallCoverageWords(report.coverage)}</Fact>
        {sampling && sampling.kind === 'video' && (
          <Fact term="Frames decoded">
            {sampling.framesDecoded} of {sampling.totalFrames} frames, within reach of{' '}
            {formatTime(sampling.secondsCovered)} of {formatTime(sampling.durationSeconds ?? 0)}
          </Fact>
        )}
        {integrity?.truncated && (
          <Fact term="File integrity">
            Only part of the media is in the file: the checks ran on the part that is present.
          </Fact>
        )}
        {compression && (
          <>
            <Fact term="Kind">{compression.kind === 'image' ? 'Still image' : 'Video'}</Fact>
            <Fact term="Codec">
              {[compression.codec, compression.profile].filter(Boolean).join(', ') || 'Not known'}
            </Fact>
            {compression.width && compression.height && (
              <Fact term="Picture size">
                {compression.width} × {compression.height} pixels
              </Fact>
            )}
            {compression.bitrate !== null && (
              <Fact term="Bit rate">{formatBitrate(compression.bitrate)}</Fact>
            )}
            {compression.frameRate !== null && (
              <Fact term="Frame rate">{compression.frameRate.toFixed(2)} frames per second</Fact>
            )}
            {compression.bitRatePerPixelPerFrame !== null && (
              <Fact term="Bits per pixel and frame">{compression.bitRatePerPixelPerFrame}</Fact>
            )}
            {compression.gopLength !== null && (
              <Fact term="Keyframe interval">{compression.gopLength} frames</Fact>
            )}
            {compression.bFrames !== null && (
              <Fact term="B-frames">{compression.bFrames ? 'Yes' : 'No'}</Fact>
            )}
            {compression.reencodeEvidence && (
              <Fact term="Re-encoding">{reencodeWords[compression.reencodeEvidence]}</Fact>
            )}
            {compression.forensicSignal && (
              <Fact term="Forensic signal">
                {signalWords[compression.forensicSignal]}
                {compression.forensicSignalReason && (
                  <span className="muted"> ({withoutVerdictWords(compression.forensicSignalReason)})</span>
                )}
              </Fact>
            )}
          </>
        )}
      </dl>
      {compression?.forensicSignal === 'low' && (
        <p className="notice">
          This media is heavily compressed: a clean result on it says less than on a camera original.
        </p>
      )}
    </section>
  );
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
