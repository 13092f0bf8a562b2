// Patch with each content type the client offers (k8s.PatchStrategy, set through setHeaderOptions as
// the client documents; the generated call defaults to JSON patch), and server-side apply with a
// fieldManager, its conflicts and force, through CoreV1Api and KubernetesObjectApi.
import * as k8s from '@kubernetes/client-node';
import { check, equal, expectApiError, withNamespace } from '../lib.mjs';

const as = (strategy) => k8s.setHeaderOptions('Content-Type', strategy);

export async function patch(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-patch', async (namespace) => {
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'p', labels: { keep: 'me' } }, data: { a: '1', b: '2' } } });

    // Merge patch: null removes a key, maps merge.
    let cm = await core.patchNamespacedConfigMap(
      { name: 'p', namespace, body: { metadata: { labels: { added: 'yes' } }, data: { a: null, c: '3' } } },
      as(k8s.PatchStrategy.MergePatch));
    equal(cm.data, { b: '2', c: '3' }, 'merge patch data');
    equal(cm.metadata.labels, { keep: 'me', added: 'yes' }, 'merge patch labels');

    // JSON patch, the call's default content type, then explicitly.
    cm = await core.patchNamespacedConfigMap({ name: 'p', namespace, body: [
      { op: 'test', path: '/data/b', value: '2' },
      { op: 'replace', path: '/data/b', value: 'two' },
      { op: 'add', path: '/data/d', value: '4' },
      { op: 'remove', path: '/data/c' },
    ] });
    equal(cm.data, { b: 'two', d: '4' }, 'JSON patch (default content type)');
    cm = await core.patchNamespacedConfigMap({ name: 'p', namespace, body: [{ op: 'move', from: '/data/d', path: '/data/e' }] },
      as(k8s.PatchStrategy.JsonPatch));
    equal(cm.data, { b: 'two', e: '4' }, 'JSON patch move');
    await expectApiError(core.patchNamespacedConfigMap({ name: 'p', namespace, body: [{ op: 'test', path: '/data/b', value: 'nope' }] }),
      422, 'Invalid');

    // A content type the server does not take for PATCH: 415 with the accepted types.
    await expectApiError(core.patchNamespacedConfigMap({ name: 'p', namespace, body: { data: { x: '1' } } }, as('text/plain')),
      415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: '
        + 'application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml');

    // Strategic merge patch: a Service's ports merge by port; a merge patch replaces the list.
    await core.createNamespacedService({ namespace, body: {
      metadata: { name: 's' }, spec: { selector: { app: 's' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } });
    let svc = await core.patchNamespacedService(
      { name: 's', namespace, body: { spec: { ports: [{ name: 'https', port: 443, targetPort: 8443 }] } } },
      as(k8s.PatchStrategy.StrategicMergePatch));
    equal(svc.spec.ports.map((p) => p.port).sort(), [443, 80], 'strategic merge keeps port 80 and adds 443');
    svc = await core.patchNamespacedService(
      { name: 's', namespace, body: { spec: { ports: [{ port: 80, $patch: 'delete' }] } } },
      as(k8s.PatchStrategy.StrategicMergePatch));
    equal(svc.spec.ports.map((p) => p.port), [443], 'strategic $patch: delete');
    svc = await core.patchNamespacedService(
      { name: 's', namespace, body: { spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }] } } },
      as(k8s.PatchStrategy.MergePatch));
    equal(svc.spec.ports.map((p) => p.port), [53], 'merge patch replaces the list');
  });
}

export async function apply(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  await withNamespace(kc, 'js-apply', async (namespace) => {
    const body = (data) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace }, data });
    const ssa = as(k8s.PatchStrategy.ServerSideApply);

    // Apply creates the object; the manager owns what it applied.
    let cm = await core.patchNamespacedConfigMap({ name: 'applied', namespace, body: body({ a: '1', b: '1' }), fieldManager: 'js-suite' }, ssa);
    equal(cm.data, { a: '1', b: '1' }, 'applied data');
    let mf = cm.metadata.managedFields;
    equal(mf.length, 1, 'one managedFields entry');
    equal(mf[0].manager, 'js-suite', 'manager');
    equal(mf[0].operation, 'Apply', 'operation');
    equal(mf[0].fieldsType, 'FieldsV1', 'fieldsType');
    equal(mf[0].fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } }, 'owned fields');

    // Another manager applying a different value conflicts (409 Conflict) unless it forces.
    const conflict = await expectApiError(
      core.patchNamespacedConfigMap({ name: 'applied', namespace, body: body({ a: '2' }), fieldManager: 'other' }, ssa),
      409, 'Conflict', 'Apply failed with 1 conflict: conflict with "js-suite": .data.a');
    equal(conflict.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "js-suite"', field: '.data.a' }], 'conflict causes');
    cm = await core.patchNamespacedConfigMap({ name: 'applied', namespace, body: body({ a: '2' }), fieldManager: 'other', force: true }, ssa);
    equal(cm.data, { a: '2', b: '1' }, 'forced apply');
    mf = Object.fromEntries(cm.metadata.managedFields.map((m) => [m.manager, m.fieldsV1]));
    equal(mf, { 'js-suite': { 'f:data': { 'f:b': {} } }, other: { 'f:data': { 'f:a': {} } } }, 'ownership moved on force');

    // Dropping a field from the applied configuration removes it when no one else owns it.
    cm = await core.patchNamespacedConfigMap({ name: 'applied', namespace, body: body({}), fieldManager: 'js-suite' }, ssa);
    equal(cm.data, { a: '2' }, 'b removed when js-suite stopped applying it');

    // Apply requires a fieldManager.
    await expectApiError(core.patchNamespacedConfigMap({ name: 'applied', namespace, body: body({ a: '3' }) }, ssa), 422, 'Invalid');

    // KubernetesObjectApi: the generic client's patch with the apply strategy, on a new object.
    const applied = await objects.patch(
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'generic', namespace }, stringData: { token: 'x' } },
      undefined, undefined, 'js-object', true, k8s.PatchStrategy.ServerSideApply);
    equal(applied.kind, 'Secret', 'generic apply kind');
    equal(Buffer.from(applied.data.token, 'base64').toString(), 'x', 'stringData folded into data');
    check(applied.metadata.managedFields.some((m) => m.manager === 'js-object' && m.operation === 'Apply'), 'generic apply managedFields');
    const read = await objects.read({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'generic', namespace } });
    equal(read.metadata.uid, applied.metadata.uid, 'generic read');
  });
}
