import { useEffect, useState } from 'react';
import { ApiError } from '../../api/problem';
import { uploadsEndpoint } from './use-tus-uploads';

/** The server's largest accepted upload, from tus's own OPTIONS answer (`Tus-Max-Size` = MAX_UPLOAD_BYTES). */
export function useUploadLimit(): { maxBytes: number | null; error: unknown } {
  const [state, setState] = useState<{ maxBytes: number | null; error: unknown }>({
    maxBytes: null,
    error: null,
  });
  useEffect(() => {
    let current = true;
    fetch(uploadsEndpoint, { method: 'OPTIONS', credentials: 'same-origin' })
      .then(async (response) => {
        if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
        const maxBytes = Number(response.headers.get('Tus-Max-Size'));
        if (current)
          setState({ maxBytes: Number.isFinite(maxBytes) && maxBytes > 0 ? maxBytes : null, error: null });
      })
      .catch((error: unknown) => current && setState({ maxBytes: null, error }));
    return () => {
      current = false;
    };
  }, []);
  return state;
}
