import { parseGet } from './e2e/api-get';

// The end-to-end suites answer their `kubectl get -o json` polls from their own process
// (test/e2e/api-get.ts); test/e2e/cluster.ts proves the answers equal kubectl's against a real API
// server. Here: which forms it takes over, and that every other form stays kubectl's.
describe('the kubectl forms answered by the API server directly', () => {
  test.each([
    [['get', 'nodes', '-o', 'json'], { type: 'nodes', allNamespaces: false }],
    [['-n', 'todo-prod', 'get', 'clusters.postgresql.cnpg.io', 'todo-db', '-o', 'json'], { type: 'clusters.postgresql.cnpg.io', name: 'todo-db', namespace: 'todo-prod' }],
    [['get', 'deployment/todo', '--namespace=dev', '-o=json'], { type: 'deployment', name: 'todo', namespace: 'dev' }],
    [['-n', 'dev', 'get', 'pods', '-l', 'app=web', '--field-selector', 'status.phase=Running', '--output', 'json'],
      { type: 'pods', namespace: 'dev', labelSelector: 'app=web', fieldSelector: 'status.phase=Running' }],
    [['get', 'pv', '-A', '-o', 'json'], { type: 'pv', allNamespaces: true }],
  ])('%j', (args, expected) => {
    expect(parseGet(args)).toMatchObject(expected);
  });

  test.each([
    [['get', 'pods', '-o', 'yaml']],
    [['get', 'pods', '-o', 'jsonpath={.items}']],
    [['get', 'pods']],
    [['get', 'pods,services', '-o', 'json']],
    [['get', 'pods', 'a', 'b', '-o', 'json']],
    [['get', 'pod/a', 'b', '-o', 'json']],
    [['get', 'pods', '-w', '-o', 'json']],
    [['get', 'pods', '--show-managed-fields', '-o', 'json']],
    [['get', '-f', 'objects.yaml', '-o', 'json']],
    [['-n', 'a', '-n', 'b', 'get', 'pods', '-o', 'json']],
    [['describe', 'pods', '-o', 'json']],
    [['exec', 'pod', '--', 'get', '-o', 'json']],
  ])('left to kubectl: %j', args => {
    expect(parseGet(args)).toBeUndefined();
  });
});
