import { createContext, useContext } from 'react';
import type { GuardianApi } from './client';

export const ApiContext = createContext<GuardianApi | null>(null);

export function useApi(): GuardianApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext');
  return api;
}
