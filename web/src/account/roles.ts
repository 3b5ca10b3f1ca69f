export const roles = ['admin', 'analyst', 'viewer', 'auditor'] as const;
export type Role = (typeof roles)[number];

export const roleDescriptions: Record<Role, string> = {
  admin: 'Admin: manages users, keys and settings',
  analyst: 'Analyst: uploads, analyses and reads reports',
  viewer: 'Viewer: reads reports',
  auditor: 'Auditor: reads the audit log',
};
