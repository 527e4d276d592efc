// Helpers for the fields teams override most, as mixins on the objects of lib/todo/<env>.json:
//
//   local o = import 'todo/overrides.libsonnet';
//   (import 'todo/prod.json')
//   + o.replicas('todo', 5)
//   + o.image('todo', 'app', 'registry.example/image@sha256:...')
//   + o.resources('todo', 'app', { limits: { memory: '512Mi' } })
//
// `name` is the object's name, `kind` its key in the objects: 'deployments' (the default),
// 'statefulSets' or 'cronJobs'. A name, kind or container that is not there is an error, not a
// silently added object that Tanka would skip for lacking apiVersion and kind.
// Anything else: plain Jsonnet, e.g. + { services+: { todo+: { spec+: { type: 'NodePort' } } } }.
{
  // Where each kind keeps its pod spec.
  local podSpecPaths = {
    deployments: ['spec', 'template', 'spec'],
    statefulSets: ['spec', 'template', 'spec'],
    cronJobs: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  },

  // Mixes `patch` into the object at `path` (each level with +:).
  local at(path, patch) = if std.length(path) == 0 then patch else { [path[0]]+: at(path[1:], patch) },

  // Mixes `patch` into the object <kind>.<name>, which must exist.
  local workload(kind, name, patch) = {
    assert std.objectHas(podSpecPaths, kind) : 'kind must be one of %s, not %s' % [std.objectFields(podSpecPaths), kind],
    assert kind in super && std.objectHas(super[kind], name)
           : 'there is no %s named %s (there are: %s)' % [kind, name, if kind in super then std.objectFields(super[kind]) else []],
    [kind]+: { [name]+: patch },
  },

  // Replaces the container named `containerName` of <kind>.<name> with f(container).
  local container(kind, name, containerName, f) = workload(kind, name, at(podSpecPaths[kind], {
    assert std.member([c.name for c in super.containers], containerName)
           : '%s %s has no container %s (it has: %s)' % [kind, name, containerName, [c.name for c in super.containers]],
    containers: [if c.name == containerName then f(c) else c for c in super.containers],
  })),

  // spec.replicas of a Deployment or StatefulSet (an autoscaled Deployment's HPA still decides).
  replicas(name, count, kind='deployments')::
    if kind == 'cronJobs' then error 'a CronJob has no replicas: kind must be deployments or statefulSets'
    else workload(kind, name, { spec+: { replicas: count } }),

  // The image of one container (pin it by digest).
  image(name, containerName, image, kind='deployments'):: container(kind, name, containerName, function(c) c { image: image }),

  // A JSON merge patch (RFC 7386) of one container's resources: the fields given replace theirs,
  // null removes one, the rest stays, e.g. { limits: { memory: '512Mi' } }.
  resources(name, containerName, patch, kind='deployments'):: container(kind, name, containerName,
    function(c) c { resources: std.mergePatch(std.get(c, 'resources', {}), patch) }),
}
