// `npm run seal` runs this (compiled): seal values for an environment, fetch a certificate, re-encrypt, list.
import { sealCommand } from './sealed-secrets/seal-command';
import { TODO_REPOSITORY } from './todo/repository';

process.exitCode = sealCommand(TODO_REPOSITORY, process.argv.slice(2));
