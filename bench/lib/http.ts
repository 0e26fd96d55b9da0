// A small keep-alive HTTP client for the load loops autocannon can't express
// (Direct Line's post-then-poll, multi-turn referral conversations).
import http from 'node:http';

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  /** Requests completed, whatever their status. */
  requests = 0;

  constructor(baseUrl: string, maxSockets: number) {
    this.base = new URL(baseUrl);
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; timeoutMs?: number } = {}): Promise<HttpResponse> {
    const body = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
    const headers: Record<string, string | number> = { ...options.headers };
    if (body) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = body.length;
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.base.hostname, port: this.base.port, method, path, headers, agent: this.agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            this.requests += 1;
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(options.timeoutMs ?? 10000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
