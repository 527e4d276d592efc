// `npm run view` runs this (compiled): an HTML view of the working tree's GitOps tree, diff overlaid.
import { viewCommand } from './review/view-command';
import { TODO_REPOSITORY } from './todo/repository';

process.exitCode = viewCommand(TODO_REPOSITORY, process.argv.slice(2));
