// `npm run synth` and `cdk8s synth` run this (compiled) to write dist/, helm/todo/ and tanka/.
import { TODO_REPOSITORY } from './todo/repository';

TODO_REPOSITORY.synthCommand();
