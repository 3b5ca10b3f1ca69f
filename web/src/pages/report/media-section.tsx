import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { faceBoxesAt, faceSpans } from './face-boxes-at.js';
import { FaceBoxesText, FaceOverlay } from './face-overlay.js';
import type { ReportView } from './report-shape.js';
import { TimelineChart } from './timeline-chart.js';

/** How far from a sampled frame a face box is still drawn: faces are known only in sampled frames. */
const faceToleranceSeconds = 0.25;

export interface PlayerControl {
  seek(seconds: number): void;
}

/**
 * The media at `src`: GET /api/v1/media/{id}/content for the owner (range requests; same origin, so the session
 * cookie goes along), or a signed link in a shared report.
 */
export function MediaSection({
  report,
  src,
  playerRef,
}: {
  report: ReportView;
  src: string;
  playerRef: RefObject<PlayerControl | null>;
}) {
  const contentUrl = src;
  const kind = report.compression?.kind ?? report.sampling?.kind ?? null;
  if (kind === 'image') return <ImageWithFaces report={report} src={contentUrl} />;
  if (kind === 'video') return <VideoWithTimeline report={report} src={contentUrl} playerRef={playerRef} />;
  return null;
}

function frameSize(report: ReportView): { width: number; height: number } {
  return {
    width: report.sampling?.decodeWidth ?? report.compression?.width ?? report.media?.video?.width ?? 640,
    height: report.sampling?.decodeHeight ?? report.compression?.height ?? report.media?.video?.height ?? 360,
  };
}

function ImageWithFaces({ report, src }: { report: ReportView; src: string }) {
  const { width, height } = frameSize(report);
  const boxes = faceBoxesAt(report.faces ?? [], 0, Number.POSITIVE_INFINITY);
  const [failed, setFailed] = useState(false);
  return (
    <section aria-labelledby="report-media" className="report-section">
      <h2 id="report-media">Image and faces</h2>
      {failed ? (
        <p className="notice">The image is no longer available (it may have been deleted).</p>
      ) : (
        <div className="report-frame">
          <img
            src={src}
            alt="The analysed image"
            width={width}
            height={height}
            className="report-picture"
            onError={() => setFailed(true)}
          />
          <FaceOverlay boxes={boxes} width={width} height={height} />
        </div>
      )}
      {report.faces !== null && <FaceBoxesText boxes={boxes} image />}
    </section>
  );
}

function VideoWithTimeline({
  report,
  src,
  playerRef,
}: {
  report: ReportView;
  src: string;
  playerRef: RefObject<PlayerControl | null>;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [current, setCurrent] = useState(0);
  const [duration, setDuration] = useState(
    report.media?.durationSeconds ?? report.sampling?.durationSeconds ?? 0,
  );
  const [failed, setFailed] = useState(false);
  const { width, height } = frameSize(report);
  const tracks = useMemo(() => report.faces ?? [], [report.faces]);
  const boxes = faceBoxesAt(tracks, current, faceToleranceSeconds);
  const spans = useMemo(() => faceSpans(tracks, faceToleranceSeconds * 2), [tracks]);
  const series = report.detectors.filter((detector) => (detector.perFrame?.length ?? 0) > 0);

  const seek = useCallback((seconds: number) => {
    setCurrent(seconds);
    if (video.current) video.current.currentTime = seconds;
  }, []);
  useEffect(() => {
    playerRef.current = { seek };
    return () => {
      playerRef.current = null;
    };
  }, [playerRef, seek]);
  useFrameClock(video, setCurrent);

  return (
    <section aria-labelledby="report-media" className="report-section">
      <h2 id="report-media">Video, timeline and faces</h2>
      {failed ? (
        <p className="notice">The video is no longer available (it may have been deleted).</p>
      ) : (
        <div className="report-frame">
          <video
            ref={video}
            src={src}
            controls
            preload="metadata"
            width={width}
            height={height}
            className="report-picture"
            aria-label="The analysed video"
            onLoadedMetadata={(event) => {
              if (Number.isFinite(event.currentTarget.duration)) setDuration(event.currentTarget.duration);
            }}
            onError={() => setFailed(true)}
          />
          <FaceOverlay boxes={boxes} width={width} height={height} />
        </div>
      )}
      {report.faces !== null && <FaceBoxesText boxes={boxes} />}
      <h3 id="report-timeline-heading">Timeline</h3>
      <TimelineChart
        durationSeconds={duration}
        currentSeconds={current}
        series={series}
        sampling={report.sampling}
        faceSpans={spans}
        onSeek={seek}
      />
      <ul className="timeline-legend">
        {series.map((detector, index) => (
          <li key={detector.id}>
            <svg width="18" height="10" aria-hidden="true">
              <line x1="0" x2="18" y1="5" y2="5" className={`timeline-series timeline-series-${index % 6}`} />
            </svg>{' '}
            {detector.id} (per-frame score, 0 to 1)
          </li>
        ))}
        {spans.length > 0 && (
          <li>
            <svg width="18" height="10" aria-hidden="true">
              <rect width="18" height="8" y="1" className="timeline-face" />
            </svg>{' '}
            a face was seen in the sampled frames
          </li>
        )}
        {(report.sampling?.windows.length ?? 0) > 0 && (
          <li>
            <svg width="18" height="10" aria-hidden="true">
              <rect width="18" height="10" className="timeline-window" />
            </svg>{' '}
            every frame decoded (dense window); elsewhere only keyframes
          </li>
        )}
      </ul>
    </section>
  );
}

/** Follows the player's position every animation frame while it plays, and on every seek. */
function useFrameClock(video: RefObject<HTMLVideoElement | null>, onTime: (seconds: number) => void) {
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    let frame = 0;
    const tick = () => {
      onTime(element.currentTime);
      if (!element.paused && !element.ended) frame = requestAnimationFrame(tick);
    };
    const onPlay = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(tick);
    };
    const onSeeked = () => onTime(element.currentTime);
    element.addEventListener('play', onPlay);
    element.addEventListener('seeked', onSeeked);
    element.addEventListener('timeupdate', onSeeked);
    return () => {
      cancelAnimationFrame(frame);
      element.removeEventListener('play', onPlay);
      element.removeEventListener('seeked', onSeeked);
      element.removeEventListener('timeupdate', onSeeked);
    };
  }, [video, onTime]);
}
