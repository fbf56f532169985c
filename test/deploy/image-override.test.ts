import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deployRoot, kustomize, onlyOne, type Container, type DeploymentObject } from './render.js';

const IMAGE = 'registry.example.com/team/kube-event-shipper';

/** The user's own overlay as deploy/README describes it: a relative path (kustomize rejects absolute ones) and an `images:` override. */
function userOverlay(overlayDir: string, target: string, override: string): string {
  return [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    `  - ${relative(overlayDir, join(deployRoot, target))}`,
    'images:',
    override,
    '',
  ].join('\n');
}

function shipperImage(deployment: DeploymentObject): string {
  const [container] = deployment.spec.template.spec.containers;
  return (container as Container).image;
}

describe('an overlay that sets the image, as deploy/README step 1 says', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kes-image-override-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function render(name: string, target: string, override: string): Promise<string> {
    const dir = join(root, name);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'kustomization.yaml'), userOverlay(dir, target, override));
    return shipperImage(onlyOne<DeploymentObject>(await kustomize(dir), 'Deployment'));
  }

  for (const target of ['base', 'overlays/ha', 'overlays/production']) {
    it(`replaces the name and tag of deploy/${target}'s image with name: kube-event-shipper`, async () => {
      const image = await render(`${target.replace('/', '-')}-tag`, target, `  - name: kube-event-shipper\n    newName: ${IMAGE}\n    newTag: 1.2.3`);
      assert.equal(image, `${IMAGE}:1.2.3`);
    });
  }

  it('replaces the name only and keeps the base tag when newTag is left out', async () => {
    assert.equal(await render('name-only', 'base', `  - name: kube-event-shipper\n    newName: ${IMAGE}`), `${IMAGE}:0.1.0`);
  });

  it('pins a digest', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.equal(await render('digest', 'base', `  - name: kube-event-shipper\n    newName: ${IMAGE}\n    digest: ${digest}`), `${IMAGE}@${digest}`);
  });
});

describe('an overlay that points at the base by absolute path', () => {
  it('is rejected by kustomize, which is why deploy/README says relative path or git URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kes-absolute-'));
    try {
      await writeFile(join(dir, 'kustomization.yaml'), `resources:\n  - ${join(deployRoot, 'base')}\n`);
      await assert.rejects(kustomize(dir), /cannot be absolute/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
