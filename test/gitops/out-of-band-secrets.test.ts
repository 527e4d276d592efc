import { outOfBandSecrets } from '../../src/gitops/out-of-band-secrets';

const pod = (spec: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });

describe('outOfBandSecrets: the Secrets pods use but the tree does not define', () => {
  test('finds every way a pod uses a Secret, in workloads of every kind', () => {
    const objects = [
      pod({
        initContainers: [{ name: 'init', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'init-env', key: 'a' } } }] }],
        containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'env-from' } }, { configMapRef: { name: 'not-a-secret' } }] }],
        volumes: [{ name: 'v', secret: { secretName: 'volume' } }, { name: 'p', projected: { sources: [{ secret: { name: 'projected' } }, { configMap: { name: 'cm' } }] } }],
        imagePullSecrets: [{ name: 'pull' }],
      }),
      { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', env: [{ name: 'B', valueFrom: { secretKeyRef: { name: 'cron-env', key: 'b' } } }] }] } } } } } },
      { kind: 'StatefulSet', metadata: { name: 's' }, spec: { template: { spec: { containers: [{ name: 'db', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: 'volume', key: 'p' } } }] }] } } } },
    ];
    expect(outOfBandSecrets(objects)).toEqual(['cron-env', 'env-from', 'init-env', 'projected', 'pull', 'volume']);
  });

  test('a Secret the tree defines is not out of band; a tree without pods has none', () => {
    const objects = [pod({ containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'in-git' } }, { secretRef: { name: 'by-hand' } }] }] }),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'in-git' } }];
    expect(outOfBandSecrets(objects)).toEqual(['by-hand']);
    expect(outOfBandSecrets([{ kind: 'ConfigMap', metadata: { name: 'x' } }])).toEqual([]);
  });

  test('the Secrets CloudNativePG makes for a Cluster are not out of band; another Cluster kind\'s are', () => {
    const objects = [
      pod({ containers: [{ name: 'app', envFrom: [{ secretRef: { name: 'db-app' } }, { secretRef: { name: 'db-superuser' } }, { secretRef: { name: 'other-app' } }] }] }),
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'db' } },
      { apiVersion: 'cluster.x-k8s.io/v1beta1', kind: 'Cluster', metadata: { name: 'other' } },
    ];
    expect(outOfBandSecrets(objects)).toEqual(['other-app']);
  });

  test('a CloudNativePG Cluster\'s own references count: the S3 keys of its backup and of the backup it restores, and a user login; a sealed one does not', () => {
    const s3 = (name: string) => ({ s3Credentials: { accessKeyId: { name, key: 'ACCESS_KEY_ID' }, secretAccessKey: { name, key: 'ACCESS_SECRET_KEY' } } });
    const objects = [
      {
        apiVersion: 'postgresql.cnpg.io/v1',
        kind: 'Cluster',
        metadata: { name: 'db' },
        spec: {
          bootstrap: { recovery: { source: 'old', secret: { name: 'login' } } },
          backup: { barmanObjectStore: s3('backup-keys') },
          externalClusters: [{ name: 'old', barmanObjectStore: s3('restore-keys') }, { name: 'streamed', connectionParameters: {} }],
        },
      },
      { apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', metadata: { name: 'login' } },
    ];
    expect(outOfBandSecrets(objects)).toEqual(['backup-keys', 'restore-keys']);
  });
});
