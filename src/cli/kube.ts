/** Kubernetes client configuration from `--kubeconfig` / `--context`, or the usual defaults. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
// The module itself, not the package index: the index re-exports all of the generated API.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../core/errors.js';

/**
 * With no KUBECONFIG, no ~/.kube/config and no in-cluster service, client-node silently falls
 * back to `http://localhost:8080`, which `run` would then retry forever: refuse that up front.
 */
function assertSomewhereToLoadFrom(): void {
  if ((process.env['KUBECONFIG'] ?? '') !== '') return;
  const homeConfig = join(homedir(), '.kube', 'config');
  if (existsSync(homeConfig)) return;
  if ((process.env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') return;
  throw new ConfigError(
    `no kubeconfig found: looked for --kubeconfig (not given), KUBECONFIG (unset), ${homeConfig} (missing) and in-cluster (KUBERNETES_SERVICE_HOST unset)`,
  );
}

/** KUBECONFIG, then ~/.kube/config, then the in-cluster service account (client-node's loadFromDefault order), unless a file is given. */
export function loadKubeConfig(config: Pick<Config, 'kubeconfig' | 'context'>): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig === undefined) assertSomewhereToLoadFrom();
  try {
    if (config.kubeconfig !== undefined) kc.loadFromFile(config.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ConfigError(`cannot load kubeconfig ${config.kubeconfig ?? '(default)'}: ${reason}`, { cause: err });
  }
  if (config.context !== undefined) {
    if (!kc.getContextObject(config.context)) {
      throw new ConfigError(`invalid --context ${JSON.stringify(config.context)}: expected one of ${kc.getContexts().map((c) => c.name).join(', ') || '(no contexts)'}`);
    }
    kc.setCurrentContext(config.context);
  }
  if (!kc.getCurrentCluster()) throw new ConfigError('the kubeconfig has no current cluster: expected a context with a cluster');
  return kc;
}
