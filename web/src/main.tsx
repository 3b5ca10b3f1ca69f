import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { ApiContext } from './api/api-context';
import { createGuardianApi } from './api/client';
import { SessionProvider } from './session/session-context';
import './styles.css';

const api = createGuardianApi();
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ApiContext.Provider value={api}>
      <SessionProvider>
        <App />
      </SessionProvider>
    </ApiContext.Provider>
  </StrictMode>,
);

// The service worker caches only hashed static assets; it never sees API responses or HTML.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  window.addEventListener('load', () => {
    void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
  });
}
