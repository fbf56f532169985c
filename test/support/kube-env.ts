/** Kubeconfig files for spawned binaries, pointing at the fake API server. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export function writeKubeconfig(dir: string, server: string, token = 'test-token'): string {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'fake-user', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace: 'default' }],
    currentContext: 'fake',
  });
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, kc.exportConfig());
  return path;
}
