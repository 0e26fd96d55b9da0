// SpeakSafe hub: the staff web app under /hub and the JSON API under /api/hub.
// bot/app.ts calls registerHub() after applying restify's queryParser and
// bodyParser (both with mapParams: false).
import type * as restify from 'restify';
import type { Services } from '../bot/services';
import { registerApi } from './api';
import { Hub } from './core';
import type { MountedRoute, RouteServer } from './http';
import { registerWeb } from './web';

export { Hub } from './core';
export type { MountedRoute } from './http';

const hubs = new WeakMap<object, Hub>();

export function registerHub(server: restify.Server, services: Services): void {
  const hub = new Hub(services);
  const routeServer = server as unknown as RouteServer;
  registerWeb(hub, routeServer);
  registerApi(hub, routeServer);
  hubs.set(server as unknown as object, hub);
}

/** The hub mounted on a server (tests, diagnostics). */
export function hubOf(server: restify.Server): Hub | undefined {
  return hubs.get(server as unknown as object);
}

/** Routes the hub mounted on a server, with whether each is public. */
export function hubRoutes(server: restify.Server): MountedRoute[] {
  return hubOf(server)?.routes ?? [];
}
