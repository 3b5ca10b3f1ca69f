import { lazy, type ComponentType, type LazyExoticComponent } from 'react';

/** Where a page sits in the menu: public pages need no session; the others ask for sign-in first. */
export interface PageRoute {
  path: string;
  page: LazyExoticComponent<ComponentType>;
  access: 'public' | 'signed-in' | 'admin';
}

// Every page is its own chunk, loaded when first visited, so the first load carries only the shell.
export const pageRoutes: PageRoute[] = [
  { path: '/sign-in', page: lazy(() => import('./pages/sign-in-page')), access: 'public' },
  { path: '/forgot-password', page: lazy(() => import('./pages/forgot-password-page')), access: 'public' },
  { path: '/reset-password', page: lazy(() => import('./pages/reset-password-page')), access: 'public' },
  { path: '/accept-invite', page: lazy(() => import('./pages/accept-invite-page')), access: 'public' },
  { path: '/verify', page: lazy(() => import('./pages/verify-page')), access: 'public' },
  { path: '/help', page: lazy(() => import('./pages/help-page')), access: 'public' },
  { path: '/shared/:token', page: lazy(() => import('./pages/shared-report-page')), access: 'public' },
  { path: '/upload', page: lazy(() => import('./pages/upload-page')), access: 'signed-in' },
  { path: '/history', page: lazy(() => import('./pages/history-page')), access: 'signed-in' },
  { path: '/batch', page: lazy(() => import('./pages/batch-page')), access: 'signed-in' },
  { path: '/analyses/:id', page: lazy(() => import('./pages/report-page')), access: 'signed-in' },
  { path: '/account', page: lazy(() => import('./pages/account-page')), access: 'signed-in' },
  { path: '/admin/users', page: lazy(() => import('./pages/admin/users-page')), access: 'admin' },
  { path: '/admin/api-keys', page: lazy(() => import('./pages/admin/api-keys-page')), access: 'admin' },
  {
    path: '/admin/organisation',
    page: lazy(() => import('./pages/admin/organisation-page')),
    access: 'admin',
  },
  { path: '/admin/audit', page: lazy(() => import('./pages/admin/audit-page')), access: 'admin' },
];
