/** Exact entries for a representative set of fixture events, in both line formats. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../src/core/entry.js';
import { createTransformer, DEFAULT_TRANSFORM_OPTIONS, type TransformOptions } from '../../src/transform/index.js';
import { findWatchedEvent } from '../support/corpus.js';
import { lokiLogfmt } from '../support/loki-logfmt.js';

const NOW = Date.parse('2026-11-26T21:00:00Z');
const CORE = 'events/watch-core-v1.jsonl';
const EVENTS = 'events/watch-events.k8s.io-v1.jsonl';
const CONTROLLERS = 'events/controllers/watch-core-v1.jsonl';

function entryOf(raw: unknown, options: Partial<TransformOptions> = {}): Entry {
  const transformer = createTransformer({ ...DEFAULT_TRANSFORM_OPTIONS, ...options }, { now: () => NOW });
  const result = transformer.normalize(raw);
  assert.ok(result.ok, result.ok ? '' : result.detail);
  return transformer.toEntry(result.event);
}

const labels = (namespace: string, kind: string, reason: string, type: string, source: string): Record<string, string> => ({
  job: 'kube-event-shipper',
  kind,
  namespace,
  reason,
  source,
  type,
});

interface Case {
  readonly name: string;
  readonly file: string;
  readonly event: string;
  readonly watchType?: string;
  readonly nth?: number;
  readonly expected: Entry;
}

const cases: readonly Case[] = [
  {
    name: 'an old-style core/v1 event keeps its whole-second times and count',
    file: CORE,
    event: 'web-5fc2ebc8c-36460.438ccadb9d5b3285',
    expected: {
      labels: labels('payments', 'Pod', 'Scheduled', 'Normal', 'default-scheduler'),
      timestampNs: 1795690057000000000n,
      line: 'kind=Pod namespace=payments name=web-5fc2ebc8c-36460 reason=Scheduled type=Normal count=1 msg="Successfully assigned payments/web-5fc2ebc8c-36460 to ip-10-0-1-23.ec2.internal" first_seen=2026-11-26T10:47:37Z last_seen=2026-11-26T10:47:37Z source=default-scheduler event=web-5fc2ebc8c-36460.438ccadb9d5b3285 event_uid=be6cdfa9-a5d4-422e-bd0d-c2f01fbd4d8e object_uid=8f4fc72c-f775-462d-a55f-b51dbb4c260d',
      structuredMetadata: { object_name: 'web-5fc2ebc8c-36460', object_uid: '8f4fc72c-f775-462d-a55f-b51dbb4c260d', event_uid: 'be6cdfa9-a5d4-422e-bd0d-c2f01fbd4d8e', level: 'info', occurrences: '1' },
      occurrenceId: 'be6cdfa9-a5d4-422e-bd0d-c2f01fbd4d8e:1:1795690057000000000',
    },
  },
  {
    name: 'a new-style event is timed by its eventTime to the microsecond',
    file: CORE,
    event: 'batch-96e05.c1f852126df223b8',
    expected: {
      labels: labels('payments', 'Pod', 'Scheduled', 'Normal', 'default-scheduler'),
      timestampNs: 1795688604074287000n,
      line: 'kind=Pod namespace=payments name=batch-96e05 reason=Scheduled type=Normal count=1 msg="Successfully assigned payments/batch-96e05 to ip-10-0-1-23.ec2.internal" first_seen=2026-11-26T10:23:24.074287Z last_seen=2026-11-26T10:23:24.074287Z source=default-scheduler instance=default-scheduler-control-plane-1 action=Binding event=batch-96e05.c1f852126df223b8 event_uid=e2ac2e6c-a2ad-4e45-9ce0-af6009d3becf object_uid=a110305c-9142-4b02-a880-022a5fb8eb06',
      structuredMetadata: { object_name: 'batch-96e05', object_uid: 'a110305c-9142-4b02-a880-022a5fb8eb06', event_uid: 'e2ac2e6c-a2ad-4e45-9ce0-af6009d3becf', level: 'info', occurrences: '1' },
      occurrenceId: 'e2ac2e6c-a2ad-4e45-9ce0-af6009d3becf:1:1795688604074287000',
    },
  },
  {
    name: 'an events.k8s.io/v1 series is timed by lastObservedTime and counted by series.count',
    file: EVENTS,
    event: 'big-a5940.45bbca741f587459',
    watchType: 'MODIFIED',
    expected: {
      labels: labels('payments', 'Pod', 'FailedScheduling', 'Warning', 'default-scheduler'),
      timestampNs: 1795690719907656000n,
      line: 'kind=Pod namespace=payments name=big-a5940 reason=FailedScheduling type=Warning count=2 msg="0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod." first_seen=2026-11-26T10:57:39.907538Z last_seen=2026-11-26T10:58:39.907656Z source=default-scheduler instance=default-scheduler-control-plane-1 action=Scheduling event=big-a5940.45bbca741f587459 event_uid=edd84d7b-31ff-45bd-9af8-5e03f1e7bcf0 object_uid=91fa692b-5a5a-47dd-a086-bec0454270ea',
      structuredMetadata: { object_name: 'big-a5940', object_uid: '91fa692b-5a5a-47dd-a086-bec0454270ea', event_uid: 'edd84d7b-31ff-45bd-9af8-5e03f1e7bcf0', level: 'warn', occurrences: '2' },
      occurrenceId: 'edd84d7b-31ff-45bd-9af8-5e03f1e7bcf0:2:1795690719907656000',
    },
  },
  {
    name: 'a node event (cluster-scoped, stored in default) gets namespace _cluster and the node as metadata',
    file: CORE,
    event: 'ip-10-0-1-23.ec2.internal.ea52a8fe8afbb389',
    expected: {
      labels: labels('_cluster', 'Node', 'NodeNotReady', 'Normal', 'node-controller'),
      timestampNs: 1795689149000000000n,
      line: 'kind=Node name=ip-10-0-1-23.ec2.internal reason=NodeNotReady type=Normal count=1 msg="Node ip-10-0-1-23.ec2.internal status is now: NodeNotReady" first_seen=2026-11-26T10:32:29Z last_seen=2026-11-26T10:32:29Z source=node-controller event=ip-10-0-1-23.ec2.internal.ea52a8fe8afbb389 event_uid=9dc05be3-fd85-49ba-8e71-345e856eee0e object_uid=ip-10-0-1-23.ec2.internal',
      structuredMetadata: { object_name: 'ip-10-0-1-23.ec2.internal', object_uid: 'ip-10-0-1-23.ec2.internal', node: 'ip-10-0-1-23.ec2.internal', event_uid: '9dc05be3-fd85-49ba-8e71-345e856eee0e', level: 'info', occurrences: '1' },
      occurrenceId: '9dc05be3-fd85-49ba-8e71-345e856eee0e:1:1795689149000000000',
    },
  },
  {
    name: 'a namespaced CRD kind is labelled with its kind',
    file: CORE,
    event: 'api-tls.89e0a08867a746b5',
    expected: {
      labels: labels('payments', 'Certificate', 'Issuing', 'Normal', 'cert-manager-certificates-trigger'),
      timestampNs: 1795689808000000000n,
      line: 'kind=Certificate namespace=payments name=api-tls reason=Issuing type=Normal count=1 msg="Issuing certificate as Secret does not exist" first_seen=2026-11-26T10:43:28Z last_seen=2026-11-26T10:43:28Z source=cert-manager-certificates-trigger event=api-tls.89e0a08867a746b5 event_uid=fd8d0071-b086-41dc-8e53-b0859449615a object_uid=d6419e19-32d9-4dd8-a7e4-7874155f5faf',
      structuredMetadata: { object_name: 'api-tls', object_uid: 'd6419e19-32d9-4dd8-a7e4-7874155f5faf', event_uid: 'fd8d0071-b086-41dc-8e53-b0859449615a', level: 'info', occurrences: '1' },
      occurrenceId: 'fd8d0071-b086-41dc-8e53-b0859449615a:1:1795689808000000000',
    },
  },
  {
    name: 'a cluster-scoped CRD kind gets namespace _cluster',
    file: CORE,
    event: 'default-8xk2p.274ba4f2973b75f8',
    expected: {
      labels: labels('_cluster', 'NodeClaim', 'Nominated', 'Normal', 'karpenter'),
      timestampNs: 1795688199000000000n,
      line: 'kind=NodeClaim name=default-8xk2p reason=Nominated type=Normal count=1 msg="Pod should schedule on: nodeclaim/default-8xk2p" first_seen=2026-11-26T10:16:39Z last_seen=2026-11-26T10:16:39Z source=karpenter event=default-8xk2p.274ba4f2973b75f8 event_uid=cb85a446-9cae-4aa9-8b1d-91628946daa7 object_uid=318b170a-773f-4935-ab0f-415bde69fce0',
      structuredMetadata: { object_name: 'default-8xk2p', object_uid: '318b170a-773f-4935-ab0f-415bde69fce0', event_uid: 'cb85a446-9cae-4aa9-8b1d-91628946daa7', level: 'info', occurrences: '1' },
      occurrenceId: 'cb85a446-9cae-4aa9-8b1d-91628946daa7:1:1795688199000000000',
    },
  },
  {
    name: 'quotes, a newline, a tab, backslashes and key=value text are escaped in the message',
    file: CORE,
    event: 'runner-7f9c.fe28ad74933b3ecd',
    expected: {
      labels: labels('ci-runners', 'Pod', 'Failed', 'Warning', 'kubelet'),
      timestampNs: 1795687316000000000n,
      line: String.raw`kind=Pod namespace=ci-runners name=runner-7f9c reason=Failed type=Warning count=1 msg="Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"/entrypoint.sh\": permission denied: unknown\n\tsee \"key=value\" and C:\\path\\to\\thing" first_seen=2026-11-26T10:01:56Z last_seen=2026-11-26T10:01:56Z source=kubelet instance=ip-10-0-1-23.ec2.internal host=ip-10-0-1-23.ec2.internal event=runner-7f9c.fe28ad74933b3ecd event_uid=d38d7799-49f1-4a7c-901d-5f638df6acd8 object_uid=fef7c442-cc60-47e4-aa11-d6c63ccf8627`,
      structuredMetadata: { object_name: 'runner-7f9c', object_uid: 'fef7c442-cc60-47e4-aa11-d6c63ccf8627', node: 'ip-10-0-1-23.ec2.internal', event_uid: 'd38d7799-49f1-4a7c-901d-5f638df6acd8', level: 'warn', occurrences: '1' },
      occurrenceId: 'd38d7799-49f1-4a7c-901d-5f638df6acd8:1:1795687316000000000',
    },
  },
  {
    name: 'unicode and emoji pass through unchanged',
    file: CORE,
    event: 'runner-8a1d.4ac69e91b59af61f',
    expected: {
      labels: labels('ci-runners', 'Pod', 'Started', 'Normal', 'kubelet'),
      timestampNs: 1795690698000000000n,
      line: 'kind=Pod namespace=ci-runners name=runner-8a1d reason=Started type=Normal count=1 msg="Started container runner — 构建开始 🚀 (ünïcödé)" first_seen=2026-11-26T10:58:18Z last_seen=2026-11-26T10:58:18Z source=kubelet instance=ip-10-0-2-71.ec2.internal host=ip-10-0-2-71.ec2.internal event=runner-8a1d.4ac69e91b59af61f event_uid=93a2d1fa-1d33-4ccd-bd79-559b921ceaea object_uid=b1911d62-01d8-496c-a552-b022f2078cfc',
      structuredMetadata: { object_name: 'runner-8a1d', object_uid: 'b1911d62-01d8-496c-a552-b022f2078cfc', node: 'ip-10-0-2-71.ec2.internal', event_uid: '93a2d1fa-1d33-4ccd-bd79-559b921ceaea', level: 'info', occurrences: '1' },
      occurrenceId: '93a2d1fa-1d33-4ccd-bd79-559b921ceaea:1:1795690698000000000',
    },
  },
  {
    name: 'an empty message leaves msg out of the line',
    file: CORE,
    event: 'runner-empty.ac6115e448ca6fef',
    expected: {
      labels: labels('ci-runners', 'Pod', 'Custom', 'Normal', 'my-operator'),
      timestampNs: 1795687464000000000n,
      line: 'kind=Pod namespace=ci-runners name=runner-empty reason=Custom type=Normal count=1 first_seen=2026-11-26T10:04:24Z last_seen=2026-11-26T10:04:24Z source=my-operator event=runner-empty.ac6115e448ca6fef event_uid=ba9206d3-c766-4017-a02f-523d768ecd33 object_uid=bbccdf26-53e7-469a-a304-f8d19cf972f4',
      structuredMetadata: { object_name: 'runner-empty', object_uid: 'bbccdf26-53e7-469a-a304-f8d19cf972f4', event_uid: 'ba9206d3-c766-4017-a02f-523d768ecd33', level: 'info', occurrences: '1' },
      occurrenceId: 'ba9206d3-c766-4017-a02f-523d768ecd33:1:1795687464000000000',
    },
  },
  {
    name: 'an event with no timestamps and no count is timed by its creation and counted once',
    file: CORE,
    event: 'runner-nots.26a2ef4ffef266c4',
    expected: {
      labels: labels('ci-runners', 'Pod', 'Pending', 'Normal', 'my-operator'),
      timestampNs: 1795724651000000000n, // metadata.creationTimestamp 2026-11-26T20:24:11Z
      line: 'kind=Pod namespace=ci-runners name=runner-nots reason=Pending type=Normal count=1 msg=waiting source=my-operator event=runner-nots.26a2ef4ffef266c4 event_uid=4c980f3d-6918-4d5d-ba12-96af0f7cc25a object_uid=57a4ac20-d6d3-47a5-abda-ac8ae619a65c',
      structuredMetadata: { object_name: 'runner-nots', object_uid: '57a4ac20-d6d3-47a5-abda-ac8ae619a65c', event_uid: '4c980f3d-6918-4d5d-ba12-96af0f7cc25a', level: 'info', occurrences: '1' },
      occurrenceId: '4c980f3d-6918-4d5d-ba12-96af0f7cc25a:1:1795724651000000000',
    },
  },
  {
    name: 'a related object and an action appear in the line',
    file: CORE,
    event: 'victim-f98d.93b756b30a50c1d8',
    expected: {
      labels: labels('payments', 'Pod', 'Preempted', 'Normal', 'default-scheduler'),
      timestampNs: 1795689255802935000n,
      line: 'kind=Pod namespace=payments name=victim-f98d reason=Preempted type=Normal count=1 msg="Preempted by pod 24cfcc27-62a0-44e3-a083-d081c922c8a8 on node ip-10-0-2-71.ec2.internal" first_seen=2026-11-26T10:34:15.802935Z last_seen=2026-11-26T10:34:15.802935Z source=default-scheduler instance=default-scheduler-control-plane-1 action=Preempting related=Node/ip-10-0-2-71.ec2.internal event=victim-f98d.93b756b30a50c1d8 event_uid=25dbfd2e-14bc-4f86-b94d-b3527ed6b14b object_uid=fb428d74-d67b-467e-adbd-1aeaa7e20480',
      structuredMetadata: { object_name: 'victim-f98d', object_uid: 'fb428d74-d67b-467e-adbd-1aeaa7e20480', event_uid: '25dbfd2e-14bc-4f86-b94d-b3527ed6b14b', level: 'info', occurrences: '1' },
      occurrenceId: '25dbfd2e-14bc-4f86-b94d-b3527ed6b14b:1:1795689255802935000',
    },
  },
  {
    name: 'the real scheduler (source empty) is labelled by its reporting controller',
    file: CONTROLLERS,
    event: 'blocked-fv8rb.18ebb32a923feff2',
    expected: {
      labels: labels('evt-quota', 'Pod', 'Scheduled', 'Normal', 'default-scheduler'),
      timestampNs: 1795725871860927000n,
      line: 'kind=Pod namespace=evt-quota name=blocked-fv8rb reason=Scheduled type=Normal count=1 msg="Successfully assigned evt-quota/blocked-fv8rb to fake-node-a" first_seen=2026-11-26T20:44:31.860927Z last_seen=2026-11-26T20:44:31.860927Z source=default-scheduler instance=default-scheduler-vm action=Binding event=blocked-fv8rb.18ebb32a923feff2 event_uid=7ada1220-d07e-4f98-bcc7-608976a4126b object_uid=d6cf78ab-7481-4e6b-8d2b-bb684efc9fb7',
      structuredMetadata: { object_name: 'blocked-fv8rb', object_uid: 'd6cf78ab-7481-4e6b-8d2b-bb684efc9fb7', event_uid: '7ada1220-d07e-4f98-bcc7-608976a4126b', level: 'info', occurrences: '1' },
      occurrenceId: '7ada1220-d07e-4f98-bcc7-608976a4126b:1:1795725871860927000',
    },
  },
  {
    name: 'a real controller (reportingComponent empty) is labelled by source.component',
    file: CONTROLLERS,
    event: 'blocked.18ebb32a920a44f4',
    expected: {
      labels: labels('evt-quota', 'ReplicaSet', 'SuccessfulCreate', 'Normal', 'replicaset-controller'),
      timestampNs: 1795725871000000000n,
      line: 'kind=ReplicaSet namespace=evt-quota name=blocked reason=SuccessfulCreate type=Normal count=1 msg="Created pod: blocked-fv8rb" first_seen=2026-11-26T20:44:31Z last_seen=2026-11-26T20:44:31Z source=replicaset-controller event=blocked.18ebb32a920a44f4 event_uid=f1601887-a3fe-4f65-9256-b0d067b577b8 object_uid=7c92d578-c530-4512-a033-dd120128553b',
      structuredMetadata: { object_name: 'blocked', object_uid: '7c92d578-c530-4512-a033-dd120128553b', event_uid: 'f1601887-a3fe-4f65-9256-b0d067b577b8', level: 'info', occurrences: '1' },
      occurrenceId: 'f1601887-a3fe-4f65-9256-b0d067b577b8:1:1795725871000000000',
    },
  },
  {
    name: 'a count bump from a real controller carries the new count and last time',
    file: CONTROLLERS,
    event: 'claim-nosc.18ebb32a989a855c',
    watchType: 'MODIFIED',
    nth: 1,
    expected: {
      labels: labels('evt-demo', 'PersistentVolumeClaim', 'ProvisioningFailed', 'Warning', 'persistentvolume-controller'),
      timestampNs: 1795725893000000000n,
      line: String.raw`kind=PersistentVolumeClaim namespace=evt-demo name=claim-nosc reason=ProvisioningFailed type=Warning count=3 msg="storageclass.storage.k8s.io \"does-not-exist\" not found" first_seen=2026-11-26T20:44:31Z last_seen=2026-11-26T20:44:53Z source=persistentvolume-controller event=claim-nosc.18ebb32a989a855c event_uid=d6c33dc7-6ae1-4500-8235-f205ee06068f object_uid=d6bfd402-9795-443f-9fe3-3414563f0926`,
      structuredMetadata: { object_name: 'claim-nosc', object_uid: 'd6bfd402-9795-443f-9fe3-3414563f0926', event_uid: 'd6c33dc7-6ae1-4500-8235-f205ee06068f', level: 'warn', occurrences: '3' },
      occurrenceId: 'd6c33dc7-6ae1-4500-8235-f205ee06068f:3:1795725893000000000',
    },
  },
];

describe('exact entries for representative fixture events', () => {
  for (const c of cases) {
    it(c.name, () => {
      const entry = entryOf(findWatchedEvent(c.file, c.event, c.watchType, c.nth));
      assert.deepEqual(entry, c.expected);
      assert.equal(lokiLogfmt(entry.line).error, false);
    });
  }

  it('the json format writes the same keys in the same order, count as a number', () => {
    const entry = entryOf(findWatchedEvent(EVENTS, 'big-a5940.45bbca741f587459', 'MODIFIED'), { lineFormat: 'json' });
    assert.equal(
      entry.line,
      '{"kind":"Pod","namespace":"payments","name":"big-a5940","reason":"FailedScheduling","type":"Warning","count":2,"msg":"0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.","first_seen":"2026-11-26T10:57:39.907538Z","last_seen":"2026-11-26T10:58:39.907656Z","source":"default-scheduler","instance":"default-scheduler-control-plane-1","action":"Scheduling","event":"big-a5940.45bbca741f587459","event_uid":"edd84d7b-31ff-45bd-9af8-5e03f1e7bcf0","object_uid":"91fa692b-5a5a-47dd-a086-bec0454270ea"}',
    );
  });

  it('the json format escapes quotes, newline, tab and backslashes as JSON does', () => {
    const entry = entryOf(findWatchedEvent(CORE, 'runner-7f9c.fe28ad74933b3ecd'), { lineFormat: 'json' });
    const parsed = JSON.parse(entry.line) as Record<string, unknown>;
    assert.equal(parsed.msg, 'Error: failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/entrypoint.sh": permission denied: unknown\n\tsee "key=value" and C:\\path\\to\\thing');
    assert.deepEqual(Object.keys(parsed), ['kind', 'namespace', 'name', 'reason', 'type', 'count', 'msg', 'first_seen', 'last_seen', 'source', 'instance', 'host', 'event', 'event_uid', 'object_uid']);
  });

  it('the ~32 KB message fits under the default limit and is kept whole', () => {
    const raw = findWatchedEvent(CORE, 'runner-long.96003333b9d18896') as { message: string };
    assert.equal(Buffer.byteLength(raw.message), 32521);
    assert.match(raw.message, /^x{20} (long message )+$/); // nothing to escape: quoted as is
    const entry = entryOf(raw);
    assert.deepEqual(entry, {
      labels: labels('ci-runners', 'Pod', 'Failed', 'Warning', 'kubelet'),
      timestampNs: 1795689948000000000n,
      line: `kind=Pod namespace=ci-runners name=runner-long reason=Failed type=Warning count=1 msg="${raw.message}" first_seen=2026-11-26T10:45:48Z last_seen=2026-11-26T10:45:48Z source=kubelet instance=gke-pool-a-3f2c host=gke-pool-a-3f2c event=runner-long.96003333b9d18896 event_uid=bc57bace-63fb-4f48-997f-6034bb08d158 object_uid=17af387b-0067-40b5-af10-2df189364d07`,
      structuredMetadata: { object_name: 'runner-long', object_uid: '17af387b-0067-40b5-af10-2df189364d07', node: 'gke-pool-a-3f2c', event_uid: 'bc57bace-63fb-4f48-997f-6034bb08d158', level: 'warn', occurrences: '1' },
      occurrenceId: 'bc57bace-63fb-4f48-997f-6034bb08d158:1:1795689948000000000',
    });
    assert.equal(lokiLogfmt(entry.line).fields.get('msg'), raw.message);
  });

  it('the ~32 KB message is cut to the configured limit with a visible marker', () => {
    const raw = findWatchedEvent(CORE, 'runner-long.96003333b9d18896') as { message: string };
    const entry = entryOf(raw, { maxMessageBytes: 1024 });
    const msg = lokiLogfmt(entry.line).fields.get('msg') ?? '';
    const marker = ' …[cut, 32521 bytes]';
    assert.ok(msg.endsWith(marker), msg.slice(-40));
    assert.equal(Buffer.byteLength(msg), 1024);
    assert.equal(msg, raw.message.slice(0, 1024 - Buffer.byteLength(marker)) + marker);
    assert.match(entry.line, /^kind=Pod namespace=ci-runners name=runner-long reason=Failed type=Warning count=1 msg="xxxx/);
  });

  it('structured metadata can be turned off', () => {
    const entry = entryOf(findWatchedEvent(CORE, 'runner-7f9c.fe28ad74933b3ecd'), { structuredMetadata: false });
    assert.deepEqual(entry.structuredMetadata, {});
  });

  it('labels can be narrowed and static labels added, and the line keeps every field', () => {
    const entry = entryOf(findWatchedEvent(CORE, 'runner-7f9c.fe28ad74933b3ecd'), {
      labels: ['namespace', 'type'],
      staticLabels: { cluster: 'prod-eu', job: 'events' },
    });
    assert.deepEqual(entry.labels, { cluster: 'prod-eu', job: 'events', namespace: 'ci-runners', type: 'Warning' });
    assert.deepEqual(Object.keys(entry.labels), ['cluster', 'job', 'namespace', 'type']);
    const f = lokiLogfmt(entry.line).fields;
    assert.equal(f.get('reason'), 'Failed');
    assert.equal(f.get('kind'), 'Pod');
    assert.equal(f.get('source'), 'kubelet');
  });
});
