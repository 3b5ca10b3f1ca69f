import { useRef, type KeyboardEvent, type MouseEvent } from 'react';
import type { DetectorReport, SamplingPlan } from './report-shape.js';
import { formatTime, scoreToY, seriesPath, timeTicks, timeToX, xToTime } from './timeline-scale.js';
import { useElementWidth } from './use-element-width.js';

interface TimelineChartProps {
  durationSeconds: number;
  currentSeconds: number;
  series: DetectorReport[];
  sampling: SamplingPlan | null;
  faceSpans: { startSeconds: number; endSeconds: number }[];
  onSeek: (seconds: number) => void;
}

const plotHeight = 100;
const margin = { left: 28, right: 20, top: 8 };
const faceRowY = margin.top + plotHeight + 6;
const axisY = faceRowY + 16;
const chartHeight = axisY + 20;

/** Per-frame scores over time, the dense sampling windows and where faces were seen; click or arrow keys seek. */
export function TimelineChart(props: TimelineChartProps) {
  const { durationSeconds, currentSeconds, series, sampling, faceSpans, onSeek } = props;
  const holder = useRef<HTMLDivElement>(null);
  const width = useElementWidth(holder, 640);
  const plotWidth = Math.max(10, width - margin.left - margin.right);
  const x = (seconds: number) => margin.left + timeToX(seconds, durationSeconds, plotWidth);

  const seekToPointer = (event: MouseEvent<SVGSVGElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    onSeek(xToTime(event.clientX - box.left - margin.left, plotWidth, durationSeconds));
  };
  const seekByKey = (event: KeyboardEvent<SVGSVGElement>) => {
    const step = event.shiftKey ? 5 : 1;
    const targets: Record<string, number> = {
      ArrowLeft: currentSeconds - step,
      ArrowRight: currentSeconds + step,
      Home: 0,
      End: durationSeconds,
    };
    const target = targets[event.key];
    if (target === undefined) return;
    event.preventDefault();
    onSeek(Math.min(durationSeconds, Math.max(0, target)));
  };

  return (
    <div ref={holder} className="timeline">
      <svg
        width={width}
        height={chartHeight}
        viewBox={`0 0 ${width} ${chartHeight}`}
        role="slider"
        tabIndex={0}
        aria-label="Timeline: per-frame scores; choose a moment to show it in the player"
        aria-valuemin={0}
        aria-valuemax={Number(durationSeconds.toFixed(2))}
        aria-valuenow={Number(currentSeconds.toFixed(2))}
        aria-valuetext={`${formatTime(currentSeconds)} of ${formatTime(durationSeconds)}`}
        onClick={seekToPointer}
        onKeyDown={seekByKey}
        className="timeline-chart"
        data-testid="report-timeline"
      >
        <rect
          className="timeline-plot"
          x={margin.left}
          y={margin.top}
          width={plotWidth}
          height={plotHeight}
        />
        {sampling?.windows.map((window) => (
          <rect
            key={window.startSeconds}
            className="timeline-window"
            x={x(window.startSeconds)}
            y={margin.top}
            width={Math.max(1, x(window.endSeconds) - x(window.startSeconds))}
            height={plotHeight}
          />
        ))}
        {[0, 0.5, 1].map((score) => (
          <g key={score}>
            <line
              className="timeline-grid"
              x1={margin.left}
              x2={margin.left + plotWidth}
              y1={margin.top + scoreToY(score, plotHeight)}
              y2={margin.top + scoreToY(score, plotHeight)}
            />
            <text className="timeline-label" x={2} y={margin.top + scoreToY(score, plotHeight) + 4}>
              {score}
            </text>
          </g>
        ))}
        {series.map((detector, index) => (
          <path
            key={detector.id}
            className={`timeline-series timeline-series-${index % 6}`}
            transform={`translate(${margin.left} ${margin.top})`}
            d={seriesPath(detector.perFrame ?? [], durationSeconds, plotWidth, plotHeight)}
          />
        ))}
        {faceSpans.map((span) => (
          <rect
            key={span.startSeconds}
            className="timeline-face"
            x={x(span.startSeconds) - 1}
            y={faceRowY}
            width={Math.max(2, x(span.endSeconds) - x(span.startSeconds) + 2)}
            height={8}
          />
        ))}
        {timeTicks(durationSeconds).map((tick) => (
          <text key={tick} className="timeline-label" x={x(tick)} y={axisY + 12} textAnchor="middle">
            {formatTime(tick)}
          </text>
        ))}
        <line
          className="timeline-cursor"
          x1={x(currentSeconds)}
          x2={x(currentSeconds)}
          y1={margin.top}
          y2={faceRowY + 8}
        />
      </svg>
    </div>
  );
}
