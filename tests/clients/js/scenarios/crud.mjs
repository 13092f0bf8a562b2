// create, get, replace, delete, list (label selectors, limit/continue) and the 404/409/422 errors,
// through CoreV1Api's object-parameter calls.
import * as k8s from '@kubernetes/client-node';
import { check, equal, expectApiError, withNamespace, waitFor } from '../lib.mjs';

/** create → get → replace (resourceVersion moves) → delete → get is a 404. */
export async function crud(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-crud', async (namespace) => {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings', labels: { app: 'demo' } }, data: { color: 'blue' } },
    });
    equal(created.metadata.name, 'settings', 'created name');
    equal(created.metadata.namespace, namespace, 'created namespace');
    check(created.metadata.uid && created.metadata.resourceVersion, 'uid and resourceVersion set');
    check(created.metadata.creationTimestamp instanceof Date, 'creationTimestamp parsed into a Date by the client');

    const got = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    equal(got.data, { color: 'blue' }, 'data read back');
    equal(got.metadata.uid, created.metadata.uid, 'same uid');

    got.data.color = 'green';
    const replaced = await core.replaceNamespacedConfigMap({ name: 'settings', namespace, body: got });
    equal(replaced.data, { color: 'green' }, 'replaced data');
    check(replaced.metadata.resourceVersion !== created.metadata.resourceVersion, 'resourceVersion moved on replace');

    const pod = await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'web' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    equal(pod.spec.containers[0].imagePullPolicy, 'Always', 'defaulted imagePullPolicy (image without a tag)');
    equal(pod.spec.restartPolicy, 'Always', 'defaulted restartPolicy');

    const status = await core.deleteNamespacedConfigMap({ name: 'settings', namespace });
    equal(status.kind, 'Status', 'delete of a ConfigMap answers a Status');
    equal(status.status, 'Success', 'delete status');
    await expectApiError(core.readNamespacedConfigMap({ name: 'settings', namespace }), 404, 'NotFound',
      'configmaps "settings" not found');

    // A pod with a grace period is returned with deletionTimestamp set, then goes away.
    const deleting = await core.deleteNamespacedPod({ name: 'web', namespace, gracePeriodSeconds: 0 });
    equal(deleting.metadata.name, 'web', 'deleted pod returned');
    await waitFor('pod web gone', async () => {
      try {
        await core.readNamespacedPod({ name: 'web', namespace });
        return false;
      } catch (err) {
        return err instanceof k8s.ApiException && err.code === 404;
      }
    });
  });
}

/** Label selectors (equality, set-based, existence), a field selector, and paging with limit/continue. */
export async function list(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-list', async (namespace) => {
    const specs = [
      ['a1', { app: 'a', tier: 'web' }], ['a2', { app: 'a', tier: 'db' }], ['a3', { app: 'a' }],
      ['b1', { app: 'b', tier: 'web' }], ['b2', { app: 'b' }],
    ];
    for (const [name, labels] of specs) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels } } });
    }
    const names = (l) => l.items.map((i) => i.metadata.name).sort();

    equal(names(await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=a' })), ['a1', 'a2', 'a3'], 'app=a');
    equal(names(await core.listNamespacedConfigMap({ namespace, labelSelector: 'app in (a,b),tier!=web' })),
      ['a2', 'a3', 'b2'], 'app in (a,b),tier!=web');
    equal(names(await core.listNamespacedConfigMap({ namespace, labelSelector: 'tier' })), ['a1', 'a2', 'b1'], 'tier exists');
    equal(names(await core.listNamespacedConfigMap({ namespace, labelSelector: '!tier,app' })), ['a3', 'b2'], '!tier,app');
    equal(names(await core.listNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name=b1' })), ['b1'], 'field selector');
    const across = await core.listConfigMapForAllNamespaces({ labelSelector: 'app=b' });
    equal(across.items.filter((i) => i.metadata.namespace === namespace).map((i) => i.metadata.name).sort(),
      ['b1', 'b2'], 'across namespaces with app=b');

    // Paging: 2 per page, the continue token carries on, remainingItemCount counts down. The
    // namespace's kube-root-ca.crt (published by a controller) is the sixth ConfigMap: wait for it.
    await waitFor('kube-root-ca.crt published', () => core.readNamespacedConfigMap({ name: 'kube-root-ca.crt', namespace }));
    const seen = [];
    let page = await core.listNamespacedConfigMap({ namespace, limit: 2 });
    let pages = 1;
    equal(page.items.length, 2, 'first page size');
    equal(page.metadata.remainingItemCount, 4, 'remainingItemCount on the first page (5 + kube-root-ca.crt - 2)');
    const rv = page.metadata.resourceVersion;
    seen.push(...page.items.map((i) => i.metadata.name));
    while (page.metadata._continue) {
      page = await core.listNamespacedConfigMap({ namespace, limit: 2, _continue: page.metadata._continue });
      pages++;
      equal(page.metadata.resourceVersion, rv, 'every page is a snapshot at the first page\'s resourceVersion');
      seen.push(...page.items.map((i) => i.metadata.name));
    }
    equal(pages, 3, 'pages');
    equal(seen.sort(), ['a1', 'a2', 'a3', 'b1', 'b2', 'kube-root-ca.crt'], 'all items over the pages');

    // Paging together with a selector.
    const sel = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=a', limit: 2 });
    equal(sel.items.length, 2, 'selected first page size');
    check(sel.metadata._continue, 'selected first page has a continue token');
    const rest = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=a', limit: 2, _continue: sel.metadata._continue });
    equal(rest.items.map((i) => i.metadata.name), ['a3'], 'selected second page');
    check(!rest.metadata._continue, 'no continue token on the last page');

    await expectApiError(core.listNamespacedConfigMap({ namespace, labelSelector: 'app==(' }), 400, 'BadRequest');
  });
}
