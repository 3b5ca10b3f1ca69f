import { useEffect, useState } from 'react';
import { tokenFromFragment } from './token-fragment';

/** The mailed link's token, read once; then the fragment leaves the address bar and the history entry. */
export function useLinkToken(): string | null {
  const [token] = useState(() => tokenFromFragment(window.location.hash));
  useEffect(() => {
    const { hash, pathname, search } = window.location;
    if (hash) window.history.replaceState(window.history.state, '', pathname + search);
  }, []);
  return token;
}
