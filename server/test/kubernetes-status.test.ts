/**
 * What the Kubernetes backend makes of a job's Job and pod states (status.ts): the reasons a
 * person reads, and which states end, fail or restart a job (and why: its cause).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { outcome } from '../src/backends/kubernetes/status';

describe('pod states become reasons', () => {
  const base = {
    job: undefined,
    podDeleted: false,
    memory: '32Gi',
    profile: 'gpu-1',
    image: 'img:1'
  };
  const running = (status: V1Pod['status']): V1Pod => ({
    metadata: { name: 'p' },
    spec: { nodeName: 'gpu-node-0', containers: [{ name: 'runner' }] },
    status
  });

  test('a pod taken away names its cause: preemption, eviction, node loss, deletion', () => {
    const disrupted = (reason: string): V1Pod =>
      running({
        phase: 'Running',
        conditions: [
          { type: 'DisruptionTarget', status: 'True', reason, message: 'm' }
        ]
      });
    const cause = (pod: V1Pod) => {
      const o = outcome({ ...base, pod });
      return o.kind === 'lost' ? o.cause : o.kind;
    };
    expect(cause(disrupted('PreemptionByScheduler'))).toBe('preemption');
    expect(cause(disrupted('TerminationByKubelet'))).toBe('preemption');
    expect(cause(disrupted('EvictionByEvictionAPI'))).toBe('eviction');
    expect(cause(disrupted('DeletionByPodGC'))).toBe('node_lost');
    expect(cause(disrupted('DeletionByTaintManager'))).toBe('node_lost');
    // Deleted outside nbqueue: its runner exiting after SIGTERM is not why it ended.
    const going = running({
      phase: 'Succeeded',
      containerStatuses: [
        {
          name: 'runner',
          image: 'img:1',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0 } }
        }
      ]
    });
    going.metadata = { ...going.metadata, deletionTimestamp: new Date() };
    expect(cause(going)).toBe('pod_deleted');
    expect(outcome({ ...base, pod: going }).kind).toBe('lost');
  });

  test('OOMKilled, image pull, eviction, deadline, unschedulable', () => {
    expect(
      outcome({
        ...base,
        pod: running({
          phase: 'Failed',
          containerStatuses: [
            {
              name: 'runner',
              image: '',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { terminated: { exitCode: 137, reason: 'OOMKilled' } }
            }
          ]
        })
      })
    ).toEqual({
      kind: 'failed',
      oom: true,
      reason: expect.stringMatching(
        /needs more memory, choose a larger profile/
      )
    });
    expect(
      outcome({
        ...base,
        pod: running({
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'runner',
              image: '',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff' } }
            }
          ]
        })
      }).kind
    ).toBe('failed');
    expect(
      outcome({
        ...base,
        pod: running({
          phase: 'Failed',
          reason: 'Evicted',
          message: 'low on memory'
        })
      })
    ).toEqual({
      kind: 'lost',
      cause: 'eviction',
      reason: expect.stringMatching(/gpu-node-0.*low on memory/)
    });
    expect(
      outcome({ ...base, podDeleted: true, pod: running({ phase: 'Running' }) })
    ).toMatchObject({ kind: 'lost', cause: 'pod_deleted' });
    expect(
      outcome({
        ...base,
        pod: undefined,
        job: {
          spec: { activeDeadlineSeconds: 9, template: {} },
          status: {
            conditions: [
              { type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }
            ]
          }
        }
      })
    ).toEqual({
      kind: 'failed',
      reason: expect.stringMatching(/limit of 9 s.*DeadlineExceeded/)
    });
    expect(
      outcome({
        ...base,
        pod: running({
          phase: 'Pending',
          conditions: [
            {
              type: 'PodScheduled',
              status: 'False',
              reason: 'Unschedulable',
              message: '0/4 nodes are available'
            }
          ]
        })
      })
    ).toEqual({
      kind: 'waiting',
      unschedulable: true,
      reason: expect.stringMatching(/0\/4 nodes are available/)
    });
    expect(outcome({ ...base, pod: running({ phase: 'Running' }) }).kind).toBe(
      'none'
    );
    expect(
      outcome({ ...base, pod: running({ phase: 'Succeeded' }) }).kind
    ).toBe('ended');
  });

  test('a pod waiting for its own token Secret waits; any other config error fails', () => {
    const pod = (message: string): V1Pod => ({
      metadata: { name: 'p' },
      spec: {
        nodeName: 'gpu-node-0',
        containers: [
          {
            name: 'runner',
            env: [
              {
                name: 'NBQUEUE_JOB_TOKEN',
                valueFrom: {
                  secretKeyRef: { name: 'nbq-a-b-j-1-token', key: 'token' }
                }
              }
            ]
          }
        ]
      },
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'runner',
            image: 'img:1',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              waiting: { reason: 'CreateContainerConfigError', message }
            }
          }
        ]
      }
    });
    expect(
      outcome({
        ...base,
        pod: pod('secret "nbq-a-b-j-1-token" not found')
      })
    ).toEqual({
      kind: 'waiting',
      secret: true,
      reason: 'Its pod waits for its token Secret nbq-a-b-j-1-token.'
    });
    // Another Secret (one the job may not name) is no reason to wait.
    expect(
      outcome({ ...base, pod: pod('secret "someone-else" not found') }).kind
    ).toBe('failed');
  });
});
