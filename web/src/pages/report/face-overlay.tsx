import type { FaceBoxAt } from './face-boxes-at.js';

/** Face boxes over the frame, in the decoded frame's pixel space (the viewBox), so they scale with the picture. */
export function FaceOverlay({ boxes, width, height }: { boxes: FaceBoxAt[]; width: number; height: number }) {
  // Label size in frame pixels, so it reads the same whatever the frame's resolution.
  const label = Math.max(12, Math.round(height / 24));
  return (
    <svg
      className="face-overlay"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="xMidYMid meet"
      aria-hidden="true"
      data-face-boxes={boxes.length}
    >
      {boxes.map(({ trackId, box: [x, y, boxWidth, boxHeight], analysed }) => (
        <g key={trackId} className={analysed ? 'face-box' : 'face-box face-box-small'}>
          <rect x={x} y={y} width={boxWidth} height={boxHeight} />
          <text x={x + 4} y={Math.max(label, y - label / 3)} fontSize={label} strokeWidth={label / 5}>
            Face {trackId}
          </text>
        </g>
      ))}
    </svg>
  );
}

/** The faces present now, for screen readers and anyone who cannot see the boxes. */
export function FaceBoxesText({ boxes, image }: { boxes: FaceBoxAt[]; image?: boolean }) {
  return (
    <p className="muted" aria-live="polite">
      {boxes.length === 0
        ? image
          ? 'No face was found in this image.'
          : 'No face box at this moment (faces are known only in the frames the analysis sampled).'
        : boxes
            .map(({ trackId, box: [x, y, w, h] }) => `Face ${trackId} at ${x}, ${y} (${w} × ${h} pixels)`)
            .join('; ')}
    </p>
  );
}
