import { useState } from 'react';

/**
 * Copy to the clipboard and save as a .txt file, for secrets shown once (recovery codes, a new API key).
 * The download is a Blob URL made and revoked here: nothing is stored in the browser.
 */
export function AccountCopyActions({
  text,
  fileName,
  what,
}: {
  text: string;
  fileName: string;
  what: string;
}) {
  const [status, setStatus] = useState('');

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setStatus(`${what} copied to the clipboard.`);
    } catch {
      setStatus('The browser did not allow copying; select the text and copy it by hand.');
    }
  }

  function download() {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = fileName;
    link.click();
    // Revoked a moment later: the download has to start from the URL first.
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    setStatus(`${what} saved as ${fileName}.`);
  }

  return (
    <div className="account-actions">
      <button type="button" className="secondary" onClick={() => void copy()}>
        Copy
      </button>
      <button type="button" className="secondary" onClick={download}>
        Download as text
      </button>
      <p role="status" className="muted">
        {status}
      </p>
    </div>
  );
}
