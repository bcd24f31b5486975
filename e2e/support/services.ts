// Test-side access to the services started by global-setup.ts.
import { inject } from 'vitest';
import { SERVICES_PROVIDE_KEY, ServicesEnv, toServicesEnv } from './services-env';

export type { ServicesEnv } from './services-env';

/**
 * The running services' env (DOCKER_HOST, NXAI_REGISTRY, NXAI_AUTH_REGISTRY,
 * NXAI_AUTH_USER, NXAI_AUTH_PASSWORD, ...), as provided by global-setup.
 * Falls back to process.env; throws when neither has them.
 */
export function servicesEnv(): ServicesEnv {
  const provided = inject(SERVICES_PROVIDE_KEY);
  if (provided) return provided;
  return toServicesEnv(process.env, 'process.env');
}
