/** Kubernetes client configuration from `--kubeconfig` / `--context`, or the usual defaults. */
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/index.js';
import { ConfigError } from '../core/errors.js';

/** In-cluster service account first, then KUBECONFIG / ~/.kube/config (client-node's order), unless a file is given. */
export function loadKubeConfig(config: Pick<Config, 'kubeconfig' | 'context'>): KubeConfig {
  const kc = new KubeConfig();
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
