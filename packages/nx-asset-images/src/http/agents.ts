/**
 * Keep-alive connection pools, one per scheme; a client owns one pair and
 * destroys it when done. With `HTTPS_PROXY`/`HTTP_PROXY` (any case) set, the
 * pools go through the proxy (`proxy-agents.ts`, `proxy-env.ts`).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { ForwardProxyAgent, TunnelingAgent } from './proxy-agents';
import { hasProxy, readProxySettings } from './proxy-env';

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createAgents(maxSockets: number, env: NodeJS.ProcessEnv = process.env): HttpAgents {
  const options = { keepAlive: true, maxSockets };
  const proxies = readProxySettings(env);
  if (hasProxy(proxies)) return { http: new ForwardProxyAgent(options, proxies), https: new TunnelingAgent(options, proxies) };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export function destroyAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** The pool for `url`'s scheme. */
export function agentFor(agents: HttpAgents, url: URL): http.Agent {
  return url.protocol === 'https:' ? agents.https : agents.http;
}
