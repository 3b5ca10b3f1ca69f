import { useEffect, type ReactNode } from 'react';

/** One page: its main landmark (the skip link's and the focus target), heading and document title. */
export function Page({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  useEffect(() => {
    document.title = `${title} · SecureAI Guardian`;
  }, [title]);
  return (
    <main id="main" tabIndex={-1} className={wide ? 'page page-wide' : 'page'}>
      <h1>{title}</h1>
      {children}
    </main>
  );
}
