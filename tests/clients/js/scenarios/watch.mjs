// Watch: ADDED/MODIFIED/DELETED, resuming from a resourceVersion, bookmarks when asked for
// (allowWatchBookmarks with sendInitialEvents), the server ending a watch at timeoutSeconds, and the
// client's informer (list then watch) over the same stream.
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

    // Bookmarks when the client asks: the initial events of a watch-list end with a BOOKMARK
    // annotated k8s.io/initial-events-end.
    const initial = await record(kc, path, {
      allowWatchBookmarks: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', fieldSelector: 'metadata.name=ignored',
    });
    await waitFor('initial events and a bookmark', () => initial.events.some((e) => e.type === 'BOOKMARK'));
    equal(initial.events.map((e) => e.type), ['ADDED', 'BOOKMARK'], 'initial events then the bookmark');
    equal(initial.events[0].name, 'ignored', 'the initial ADDED');
    const bookmark = initial.events[1].obj;
    equal(bookmark.metadata.annotations, { 'k8s.io/initial-events-end': 'true' }, 'bookmark annotation');
    check(bookmark.metadata.resourceVersion, 'bookmark has a resourceVersion');
    initial.stop();

    // The server ends a watch at timeoutSeconds; the client's done callback runs without an error.
    const short = await record(kc, path, { resourceVersion: rv, timeoutSeconds: 1 });
    await waitFor('the server to end the watch', () => short.ended());
    equal(short.ended().err, null, 'done without an error');

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
