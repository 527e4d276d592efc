import { GitOpsRepository, sealedSecretsPlatform } from '../src';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from './environments';
import { buildTodoStack } from './todo-stack';

/** This repository's GitOps tree: the todo stack in every environment, plus its Helm chart and Tanka project. */
export const TODO_REPOSITORY = new GitOpsRepository<TodoSettings>({
  name: 'todo',
  ...TODO_GIT,
  description: 'The todo service in every environment',
  environments: TODO_ENVIRONMENTS,
  stack: buildTodoStack,
  // The Sealed Secrets controller, synced before the environments: their credentials are sealed.
  platform: sealedSecretsPlatform(),
  helmChart: {},
  // `npm run build:image` builds the Go service in app/ (ko: the module; kaniko, buildah: its Dockerfile).
  imageSources: { todo: { context: 'app' } },
  tanka: {},
});
