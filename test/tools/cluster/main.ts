/**
 * The cluster program's command line (as root, with the tools of
 * CLUSTER_TOOLS on PATH):
 *
 *   node -r ./node_modules/ts-node/register/transpile-only test/tools/cluster/main.ts up DIR --nodes 3
 *
 *   cluster up DIR [--nodes N]     control plane + N worker nodes (default 1); prints the export lines
 *                                  (KUBECONFIG, CLUSTER_REGISTRY, CLUSTER_HOST_IP, CLUSTER_NODES);
 *                                  N = 0: the control plane alone (KUBECONFIG only), for API-only tests
 *   cluster down DIR               stops everything, removes every trace and DIR
 *   cluster env DIR                re-prints the export lines
 *   cluster pv DIR NAME SIZE [NAMESPACE/CLAIM] [--node NODE]
 *                                  a local PersistentVolume on NODE (name or index; default the first)
 *   cluster pv DIR NAME SIZE --per-node
 *                                  one unbound local PersistentVolume on every node, NAME-<node>: the
 *                                  scheduler picks the node (an operator's instances, spread by anti-affinity)
 *   cluster exec DIR [--node NODE] CMD...
 *                                  CMD in the node's namespaces and cgroup (down stops what it leaves)
 *   cluster stop-node DIR NODE     every process of the node killed at once (a power loss)
 *   cluster start-node DIR NODE    the node started again (a reboot)
 *
 * stdout: only the export lines; progress "[cluster i/N] ..." and errors on stderr.
 * Environment: CLUSTER_TIMEOUT (seconds per component, default 180), CLUSTER_KEEP_LOGS (a
 * directory the logs are copied to when up fails), TODO_GITOPS_TOOLS_CACHE (where install.sh put
 * the Kubernetes binaries, kubernetes-<version>/).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { procsFiles } from './cgroups';
import { envLines, startNode, stopNode, up } from './cluster';
import { nsenterArgs, pidFile } from './daemons';
import { readLayout } from './layout';
import { nodeCgroup, nodePlace } from './node-runtime';
import { createLocalVolume, findNode } from './storage';
import { interrupt, progressLine } from './sys';
import { down } from './teardown';

const USAGE = 'usage: cluster up DIR [--nodes N] | down DIR | env DIR | pv DIR NAME SIZE [NAMESPACE/CLAIM] [--node NODE | --per-node] | exec DIR [--node NODE] CMD... | stop-node DIR NODE | start-node DIR NODE';

/** Removes `--flag value` from args; returns the value. */
function option(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  if (i + 1 >= args.length) throw new Error(`${flag} needs a value`);
  return args.splice(i, 2)[1];
}

/** Removes `--flag` (one without a value) from args; returns whether it was there. */
function switchOption(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i >= 0) args.splice(i, 1);
  return i >= 0;
}

/** Runs CMD in a node's namespaces, in its daemons' cgroup; resolves to its exit status. */
function execInNode(dir: string, nodeName: string | undefined, cmd: string[]): Promise<number> {
  const c = readLayout(dir);
  const node = findNode(c, nodeName);
  const holder = Number(fs.readFileSync(pidFile(dir, `${node.name}.holder`), 'utf-8'));
  const place = nodePlace(c, node, holder);
  const child = spawn('bash', ['-c', 'for f in $CLUSTER_CG_PROCS; do echo $$ >"$f"; done; exec nsenter "$@"', 'exec', ...nsenterArgs(place), ...cmd],
    { stdio: 'inherit', env: { ...process.env, CLUSTER_CG_PROCS: procsFiles(`${nodeCgroup(c, node)}/daemons`).join(' ') } });
  return new Promise(resolve => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
}

export async function clusterCommand(argv: string[]): Promise<number> {
  const args = [...argv];
  const command = args.shift();
  switch (command) {
    case 'up': {
      const nodes = Number(option(args, '--nodes') ?? '1');
      if (args.length !== 1) throw new Error(USAGE);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          progressLine('cluster', `${signal}: tearing down`);
          interrupt(signal);
        });
      }
      const c = await up(args[0], { nodes, timeoutS: Number(process.env.CLUSTER_TIMEOUT ?? 180) });
      process.stdout.write(`${envLines(c)}\n`);
      return 0;
    }
    case 'down':
      if (args.length !== 1) throw new Error(USAGE);
      await down(args[0]);
      return 0;
    case 'env':
      if (args.length !== 1) throw new Error(USAGE);
      process.stdout.write(`${envLines(readLayout(path.resolve(args[0])))}\n`);
      return 0;
    case 'pv': {
      const node = option(args, '--node');
      const perNode = switchOption(args, '--per-node');
      if (args.length !== 3 && args.length !== 4) throw new Error(USAGE);
      const c = readLayout(path.resolve(args[0]));
      if (!perNode) {
        await createLocalVolume(c, { name: args[1], size: args[2], claim: args[3], node });
        return 0;
      }
      // One claim binds one volume: volumes on every node are for claims the scheduler places.
      if (node !== undefined || args.length !== 3) throw new Error(USAGE);
      for (const n of c.nodes) await createLocalVolume(c, { name: `${args[1]}-${n.name}`, size: args[2], node: n.name });
      return 0;
    }
    case 'exec': {
      const dir = path.resolve(args.shift() ?? '');
      const node = args[0] === '--node' ? args.splice(0, 2)[1] : undefined;
      if (!args.length) throw new Error(USAGE);
      return execInNode(dir, node, args);
    }
    case 'stop-node':
    case 'start-node': {
      if (args.length !== 2) throw new Error(USAGE);
      const c = readLayout(path.resolve(args[0]));
      const node = findNode(c, args[1]);
      if (command === 'stop-node') await stopNode(c, node);
      else await startNode(c, node, Number(process.env.CLUSTER_TIMEOUT ?? 180));
      return 0;
    }
    default:
      throw new Error(USAGE);
  }
}

if (require.main === module) {
  clusterCommand(process.argv.slice(2)).then(code => process.exit(code), e => {
    progressLine('cluster', `ERROR: ${(e as Error).message}`);
    process.exit(1);
  });
}
