import { Chart, Testing } from 'cdk8s';
import { ArgoCdApplication } from '../src';

function app(repoUrl: string): unknown {
  const chart = new Chart(Testing.app(), 'test');
  new ArgoCdApplication(chart, 'app', { repoUrl, path: 'dist/dev', destinationNamespace: 'todo-dev' });
  return chart.toJson()[0];
}

describe('Argo CD repoUrl: the git URL forms the repo-server clones from', () => {
  test.each([
    'https://github.com/acme/todo-gitops.git',
    'https://git.acme.example:8443/acme/todo-gitops',
    'ssh://git@github.com/acme/todo-gitops.git',
    'git@github.com:acme/todo-gitops.git',
    'git://127.0.0.1:9418/todo-gitops.git',
    'git://git.acme.example/acme/todo-gitops',
    'file:///tmp/e2e-argocd-x/todo-gitops.git',
  ])('accepts %s and renders it as spec.source.repoURL', url => {
    expect((app(url) as any).spec.source.repoURL).toBe(url);
  });

  test.each([
    ['no scheme', 'github.com/acme/todo-gitops.git', /is not a git URL: use https:\/\/host\/org\/repo\.git, ssh:\/\/\.\.\., git@host:org\/repo\.git, git:\/\/host\[:port\]\/repo\.git or file:\/\/\/absolute\/path$/],
    ['plain http', 'http://git.acme.example/acme/todo.git', /"http:\/\/git\.acme\.example\/acme\/todo\.git" is not a git URL/],
    ['git:// without a path', 'git://127.0.0.1:9418', /"git:\/\/127\.0\.0\.1:9418" is not a git URL/],
    ['git:// without a host', 'git:///todo.git', /"git:\/\/\/todo\.git" is not a git URL/],
    ['git:// with a non-numeric port', 'git://host:port/todo.git', /"git:\/\/host:port\/todo\.git" is not a git URL/],
    ['file:// with a host', 'file://server/srv/todo.git', /"file:\/\/server\/srv\/todo\.git" is not a git URL/],
    ['file:// relative path', 'file://todo.git', /"file:\/\/todo\.git" is not a git URL/],
    ['file:// root only', 'file:///', /"file:\/\/\/" is not a git URL/],
    ['file:// with a .. segment', 'file:///srv/git/../secrets', /^test\/app: repoUrl "file:\/\/\/srv\/git\/\.\.\/secrets" has a '\.\.' segment/],
    ['whitespace inside', 'git://host/todo gitops.git', /is not a git URL/],
  ])('rejects %s (%s) naming the construct and the value', (_what, url, message) => {
    expect(() => app(url)).toThrow(message);
    expect(() => app(url)).toThrow(/^test\/app: repoUrl "/);
  });
});
