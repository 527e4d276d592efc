// This repository's command line (`npm run synth`, `diff`, `view`, `build:image`): the library's CLI
// bound to the todo tree. scripts/run-compiled.js runs it as one bundle, so a synth starts fast.
import { TODO_REPOSITORY } from './repository';
import { main } from '../src/cli/cli';

main(TODO_REPOSITORY);
