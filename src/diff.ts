// `npm run diff` runs this (compiled): the working tree's GitOps tree against the committed dist/.
import { diffCommand } from './review/diff-command';
import { TODO_REPOSITORY } from './todo/repository';

process.exitCode = diffCommand(TODO_REPOSITORY, process.argv.slice(2));
