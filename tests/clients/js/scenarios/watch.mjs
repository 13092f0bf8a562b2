// Watch: ADDED/MODIFIED/DELETED, resuming from a resourceVersion, bookmarks when asked for
// (allowWatchBookmarks), the server ending a watch at timeoutSeconds, and the client's informer
// (list then watch) over the same stream.
import * as k8s from '@kubernetes/client-node';
import { check, equal, withNamespace, waitFor } from '../lib.mjs';

/** Starts a watch that records its events; `stop()` aborts it. */
async function record(kc, path, query) {
  const events = [];
  let ended;
  const w = new k8s.Watch(kc);
  const controller = await w.watch(path, query,
    (type, obj) => events.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }),
    (err) => { ended = { err }; });
  return { events, ended: () => ended, stop: () => controller.abort() };
}

const types = (events) => events.map((e) => `${e.type} ${e.name}`);

export async function watch(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-watch', async (namespace) => {
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const rv = (await core.listNamespacedConfigMap({ namespace })).metadata.resourceVersion;
    const live = await record(kc, path, { resourceVersion: rv, labelSelector: 'watched=yes' });

    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'w1', labels: { watched: 'yes' } }, data: { n: '1' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'ignored' } } });
    const w1 = await core.readNamespacedConfigMap({ name: 'w1', namespace });
    w1.data.n = '2';
    await core.replaceNamespacedConfigMap({ name: 'w1', namespace, body: w1 });
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace });
    await waitFor('three events', () => live.events.length >= 3);
    equal(types(live.events), ['ADDED w1', 'MODIFIED w1', 'DELETED w1'], 'events of the labelled ConfigMap only');
    equal(live.events[1].obj.data, { n: '2' }, 'MODIFIED carries the new object');
    live.stop();

    // Resuming from the ADDED event's resourceVersion replays what came after it.
    const resumed = await record(kc, path, { resourceVersion: live.events[0].rv, labelSelector: 'watched=yes' });
    await waitFor('two replayed events', () => resumed.events.length >= 2);
    equal(types(resumed.events), ['MODIFIED w1', 'DELETED w1'], 'events after the resumed resourceVersion');
    equal(resumed.events.map((e) => e.rv), live.events.slice(1).map((e) => e.rv), 'same resourceVersions as first seen');
    resumed.stop();

    // Bookmarks when the client asks (allowWatchBookmarks), on a selector nothing matches any more (the
    // namespace's kube-root-ca.crt may still be on its way): one comes 2 s before the watch's deadline
    // (upstream's cache watcher), carrying a resourceVersion to resume from; then the server ends the
    // watch at timeoutSeconds and the client's done callback runs without an error.
    const now = (await core.listNamespacedConfigMap({ namespace })).metadata.resourceVersion;
    const marked = await record(kc, path, { resourceVersion: now, allowWatchBookmarks: true, timeoutSeconds: 4, labelSelector: 'watched=yes' });
    await waitFor('the server to end the watch', () => marked.ended());
    equal(marked.ended().err, null, 'done without an error');
    equal(marked.events.map((e) => e.type), ['BOOKMARK'], 'a bookmark before the timeout');
    const bookmark = marked.events[0].obj;
    equal(bookmark.kind, 'ConfigMap', 'bookmark kind');
    check(BigInt(bookmark.metadata.resourceVersion) >= BigInt(now), 'bookmark resourceVersion not behind the start');

    // Without allowWatchBookmarks: no bookmark, the same end.
    const plain = await record(kc, path, { resourceVersion: now, timeoutSeconds: 4, labelSelector: 'watched=yes' });
    await waitFor('the server to end the watch', () => plain.ended());
    equal(plain.events, [], 'no events without allowWatchBookmarks');

    // sendInitialEvents (watch-list) is refused as kube-apiserver 1.33 refuses it: its WatchList gate is off.
    const refused = await record(kc, path, { allowWatchBookmarks: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' });
    await waitFor('the refused watch to end', () => refused.ended());
    equal(refused.ended().err?.statusCode, 422, 'sendInitialEvents refused with 422');

    // The informer: list, then watch from the list's resourceVersion; add/update/delete callbacks.
    const seen = [];
    const informer = k8s.makeInformer(kc, path, () => core.listNamespacedConfigMap({ namespace, labelSelector: 'inf=yes' }), 'inf=yes');
    informer.on('add', (o) => seen.push(`add ${o.metadata.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata.name} ${o.data?.v}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata.name}`));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'pre', labels: { inf: 'yes' } } } });
    await informer.start();
    await waitFor('the listed object', () => seen.includes('add pre'));
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'i1', labels: { inf: 'yes' } }, data: { v: '1' } } });
    await waitFor('add i1', () => seen.includes('add i1'));
    await core.patchNamespacedConfigMap({ name: 'i1', namespace, body: [{ op: 'replace', path: '/data/v', value: '2' }] });
    await waitFor('update i1', () => seen.includes('update i1 2'));
    await core.deleteNamespacedConfigMap({ name: 'i1', namespace });
    await waitFor('delete i1', () => seen.includes('delete i1'));
    equal(informer.list().map((o) => o.metadata.name), ['pre'], 'informer cache after the delete');
    equal(seen, ['add pre', 'add i1', 'update i1 2', 'delete i1'], 'informer callbacks');
    await informer.stop();
  });
}
