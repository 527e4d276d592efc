/**
 * `npm run demo` and `npm run demo:down` (as root: the cluster program needs it):
 *
 *   demo up     the cluster, images, git server, Argo CD, dev Synced and Healthy; prints the URLs
 *               of the todo service and of the live view, and leaves them running
 *   demo down   stops and removes everything `up` started, also after a failed `up`
 *
 * State lives in DEMO_DIR (default /tmp/todo-gitops-demo). DEMO_TODO_PORT and DEMO_VIEW_PORT fix the
 * ports on 127.0.0.1 (default: free ones). stdout: only the URL lines; progress "[demo i/8] ..." on stderr.
 */
import * as path from 'path';
import { demoDown } from './down';
import { DEFAULT_DEMO_DIR } from './state';
import { progressLine } from '../cluster/sys';

async function main(command: string | undefined): Promise<number> {
  const dir = path.resolve(process.env.DEMO_DIR ?? DEFAULT_DEMO_DIR);
  switch (command) {
    case 'up': {
      let stopping = false;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.on(signal, () => {
          if (stopping) return;
          stopping = true;
          progressLine('demo', `${signal}: tearing everything down`);
          void demoDown(dir).finally(() => process.exit(130));
        });
      }
      // Loaded only here: `down` need not wait for the library and the e2e helpers to be compiled.
      const { demoUp } = await import('./up');
      const { urls, seconds } = await demoUp(dir);
      progressLine('demo', `ready in ${seconds[seconds.length - 1][1].toFixed(0)}s (${seconds.slice(0, -1).map(([step, s]) => `${step} ${s.toFixed(0)}s`).join(', ')})`);
      process.stdout.write([
        `todo service: ${urls.todo}`,
        `live view:    ${urls.view}`,
        `git server:   ${urls.git}`,
        `kubeconfig:   ${urls.kubeconfig}`,
        'stop it all:  npm run demo:down',
      ].join('\n') + '\n');
      return 0;
    }
    case 'down':
      await demoDown(dir);
      return 0;
    default:
      throw new Error('usage: demo up | down   (state in DEMO_DIR, default /tmp/todo-gitops-demo)');
  }
}

if (require.main === module) {
  // Exits explicitly: the processes `up` leaves running must not keep this one waiting.
  main(process.argv[2]).then(code => process.exit(code), e => {
    progressLine('demo', `ERROR: ${(e as Error).message}`);
    process.exit(1);
  });
}
