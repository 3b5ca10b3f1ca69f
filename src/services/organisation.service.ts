import type { OrganisationRepository } from '../repositories/organisation.repository.js';
import { badRequest } from './errors.js';

// Printable, no control characters: names show up in CLIs, logs and reports.
const validName = /^[\p{L}\p{N}][\p{L}\p{N} ._'&-]{0,99}$/u;

export function createOrganisationService(deps: { organisations: OrganisationRepository }) {
  return {
    async create(rawName: string) {
      const name = rawName.trim();
      if (!validName.test(name)) {
        throw badRequest(
          'invalid-organisation-name',
          "name must be 1–100 letters, digits, spaces or . _ ' & -",
        );
      }
      return deps.organisations.create(name);
    },
    list: () => deps.organisations.list(),
  };
}

export type OrganisationService = ReturnType<typeof createOrganisationService>;
