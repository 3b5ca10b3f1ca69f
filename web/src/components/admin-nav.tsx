import { Link, useLocation } from 'wouter';

const adminSections = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/api-keys', label: 'API keys' },
  { href: '/admin/organisation', label: 'Organisation' },
  { href: '/admin/audit', label: 'Audit log' },
] as const;

/** The admin pages' own menu, shared by all four; the current one is marked for screen readers too. */
export function AdminNav() {
  const [location] = useLocation();
  return (
    <nav aria-label="Administration" className="admin-nav">
      <ul>
        {adminSections.map((section) => (
          <li key={section.href}>
            <Link href={section.href} aria-current={location === section.href ? 'page' : undefined}>
              {section.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
