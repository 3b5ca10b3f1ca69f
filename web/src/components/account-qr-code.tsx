import { useMemo } from 'react';
import { create } from 'qrcode';
import { qrDarkRuns } from '../account/qr-modules';

const quietZone = 4;

/**
 * A QR code drawn from the module matrix as SVG rects: geometry lives in SVG attributes, so the strict CSP
 * (no inline styles) holds. The label says what it encodes without repeating the secret.
 */
export function AccountQrCode({ text, label }: { text: string; label: string }) {
  const { size, runs } = useMemo(() => {
    const { modules } = create(text, { errorCorrectionLevel: 'M' });
    return {
      size: modules.size,
      runs: qrDarkRuns(modules.size, (row, column) => modules.get(row, column) === 1),
    };
  }, [text]);
  const extent = size + quietZone * 2;
  return (
    <svg
      className="account-qr-code"
      viewBox={`0 0 ${extent} ${extent}`}
      width="224"
      height="224"
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
    >
      <rect x="0" y="0" width={extent} height={extent} fill="#ffffff" />
      {runs.map((run) => (
        <rect
          key={`${run.y}-${run.x}`}
          x={run.x + quietZone}
          y={run.y + quietZone}
          width={run.width}
          height="1"
          fill="#000000"
        />
      ))}
    </svg>
  );
}
