import type { ReactNode } from 'react';
import { AdminNav } from './admin-nav';
import { Page } from './page';

/** An admin page: the page frame with the administration menu above its content. */
export function AdminPage({ title, children }: { title: string; children: ReactNode }) {
  return (
    <Page title={title} wide>
      <AdminNav />
      {children}
    </Page>
  );
}
