import type { FastifyContextConfig, FastifyInstance, FastifySchema } from 'fastify';

/** One method of one route as registered, with its access policy and schema. */
export interface CatalogedRoute {
  method: string;
  url: string;
  config: FastifyContextConfig;
  schema: FastifySchema | undefined;
  websocket: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered so far, so tests (and checks) can walk the real route table. */
    readonly routeCatalog: readonly CatalogedRoute[];
  }
}

/** Must run before any route is added: it records routes as Fastify announces them (`onRoute`). */
export function registerRouteCatalog(app: FastifyInstance): void {
  const routes: CatalogedRoute[] = [];
  app.decorate('routeCatalog', { getter: () => routes });
  app.addHook('onRoute', (route) => {
    // The same config object the route keeps, so a plugin's own onRoute hook that adds to it shows here too.
    route.config ??= {};
    for (const method of [route.method].flat()) {
      routes.push({
        method,
        url: route.url,
        config: route.config,
        schema: route.schema,
        websocket: route.websocket === true,
      });
    }
  });
}
