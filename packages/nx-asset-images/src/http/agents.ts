/** Keep-alive connection pools, one per scheme; a client owns one pair and destroys it when done. */
import * as http from 'node:http';
import * as https from 'node:https';

export interface HttpAgents {
  http: http.Agent;
  https: https.Agent;
}

export function createAgents(maxSockets: number): HttpAgents {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
}

export function destroyAgents(agents: HttpAgents): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** The pool for `url`'s scheme. */
export function agentFor(agents: HttpAgents, url: URL): http.Agent {
  return url.protocol === 'https:' ? agents.https : agents.http;
}
