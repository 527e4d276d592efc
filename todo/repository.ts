import { GitOpsRepository, cloudNativePgPlatform, combinePlatforms, sealedSecretsPlatform } from '../src';
import { TODO_ENVIRONMENTS, TODO_GIT, TodoSettings } from './environments';
import { buildTodoStack } from './todo-stack';

/**
 * What every cluster gets before the environments: the Sealed Secrets
 * controller (their credentials are sealed) and the CloudNativePG operator
 * (for environments whose databaseEngine is 'cloudnative-pg') with the Barman Cloud plugin,
 * which backs prod up.
 */
export const TODO_PLATFORM = combinePlatforms(sealedSecretsPlatform(), cloudNativePgPlatform({ barmanCloudPlugin: {} }));

/** This repository's GitOps tree: the todo stack in every environment, plus its Helm chart and Tanka project. */
export const TODO_REPOSITORY = new GitOpsRepository<TodoSettings>({
  name: 'todo',
  ...TODO_GIT,
  description: 'The todo service in every environment',
  environments: TODO_ENVIRONMENTS,
  stack: buildTodoStack,
  platform: TODO_PLATFORM,
  helmChart: {},
  // `npm run build:image` builds the Go service in app/ (ko: the module; kaniko, buildah: its Dockerfile).
  imageSources: { todo: { context: 'app' } },
  tanka: {},
});
