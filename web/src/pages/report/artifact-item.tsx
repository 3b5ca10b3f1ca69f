import { useEffect, useState } from 'react';
import type { ArtifactEntry } from './report-shape.js';
import { decodeNetpbm } from './netpbm-image.js';
import { formatBytes } from './report-wording.js';

const browserImageTypes = new Set(['image/png', 'image/jpeg']);
const netpbmTypes = new Set(['image/x-portable-graymap', 'image/x-portable-pixmap']);

/** An artifact: images shown (PGM/PPM converted in the page), everything else offered as a download. */
export function ArtifactItem({ artifact }: { artifact: ArtifactEntry }) {
  if (!artifact.href)
    return (
      <li>
        {artifact.name}: not available ({artifact.unavailableReason ?? 'not kept'}).
      </li>
    );
  const image = browserImageTypes.has(artifact.contentType) || netpbmTypes.has(artifact.contentType);
  return (
    <li>
      {image && (
        <figure className="artifact-figure">
          {netpbmTypes.has(artifact.contentType) ? (
            <NetpbmImage href={artifact.href} alt={artifact.description} />
          ) : (
            <img src={artifact.href} alt={artifact.description} className="artifact-image" />
          )}
          <figcaption>{artifact.description}</figcaption>
        </figure>
      )}
      <a href={artifact.href} download={artifact.name}>
        Download {artifact.name}
      </a>{' '}
      <span className="muted">({formatBytes(artifact.sizeBytes)})</span>
      {!image && <span className="muted">: {artifact.description}</span>}
    </li>
  );
}

/** Fetches the PGM/PPM bytes, paints them on a canvas and shows the result as a PNG blob image. */
function NetpbmImage({ href, alt }: { href: string; alt: string }) {
  const [source, setSource] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let url: string | null = null;
    let current = true;
    void (async () => {
      const response = await fetch(href, { credentials: 'same-origin' });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const decoded = decodeNetpbm(new Uint8Array(await response.arrayBuffer()));
      const canvas = document.createElement('canvas');
      canvas.width = decoded.width;
      canvas.height = decoded.height;
      canvas.getContext('2d')?.putImageData(new ImageData(decoded.rgba, decoded.width, decoded.height), 0, 0);
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
      if (!blob) throw new Error('no image');
      url = URL.createObjectURL(blob);
      if (current) setSource(url);
    })().catch(() => current && setFailed(true));
    return () => {
      current = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [href]);
  if (failed) return <p className="muted">This image could not be displayed; download it below.</p>;
  if (!source) return <p className="muted">Loading image…</p>;
  return <img src={source} alt={alt} className="artifact-image artifact-image-pixelated" />;
}
