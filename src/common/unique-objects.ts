import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import { ValidationError } from './validation-error';

/**
 * Fails when two objects below `scope` share kind, namespace and name: the
 * later one would silently replace the earlier one when applied.
 */
export function checkUniqueObjects(scope: IConstruct): void {
  const seen = new Map<string, ApiObject>();
  for (const obj of scope.node.findAll()) {
    if (!(obj instanceof ApiObject)) continue;
    const key = `${obj.apiVersion.split('/')[0]}|${obj.kind}|${obj.metadata.namespace ?? ''}|${obj.name}`;
    const first = seen.get(key);
    if (first) {
      ValidationError.fail(obj, `${obj.kind} "${obj.name}"${obj.metadata.namespace ? ` in namespace ${obj.metadata.namespace}` : ''} is also defined by ${first.node.path}; give each object a unique name`);
    }
    seen.set(key, obj);
  }
}
