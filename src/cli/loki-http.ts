/** Request headers and TLS for talking to Loki outside the sink (the `/ready` probe of `check`). */
import { Agent } from 'undici';
import type { Config } from '../config/index.js';

export function lokiHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = { ...config.lokiHeaders, 'user-agent': 'kube-event-shipper' };
  if (config.tenant !== undefined) headers['x-scope-orgid'] = config.tenant;
  if (config.lokiUsername !== undefined && config.lokiPassword !== undefined) {
    headers['authorization'] = 'Basic ' + Buffer.from(`${config.lokiUsername}:${config.lokiPassword}`).toString('base64');
  }
  if (config.lokiBearerToken !== undefined) headers['authorization'] = `Bearer ${config.lokiBearerToken}`;
  return headers;
}

export function lokiDispatcher(config: Config): Agent {
  const tls = config.lokiTls;
  return new Agent({
    connect: {
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      rejectUnauthorized: !config.lokiInsecureSkipVerify,
    },
  });
}
