// Helpers shared by the scenarios: the kubeconfig from the environment, checks that throw with what
// differed, a namespace per scenario, and the client's ApiException unpacked into its Status body.
import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { isDeepStrictEqual, inspect } from 'node:util';

/** The kubeconfig named by $KUBECONFIG (the driver points it at the server's admin.kubeconfig). */
export function kubeConfig() {
  const path = process.env.KUBECONFIG;
  if (!path) throw new Error('KUBECONFIG is not set: point it at a kubeconfig for the server under test');
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/**
 * A kubeconfig for the same cluster (server and CA) that authenticates with a bearer token only,
 * as a pod or a CI job holding a TokenRequest token would.
 */
export function kubeConfigWithToken(kc, token) {
  const cluster = kc.getCurrentCluster();
  const out = new k8s.KubeConfig();
  out.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token-user', token }],
    contexts: [{ name: 'token', cluster: cluster.name, user: 'token-user' }],
    currentContext: 'token',
  });
  return out;
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

export function equal(actual, expected, what) {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new Error(`${what}: expected ${inspect(expected, { depth: 6 })}, got ${inspect(actual, { depth: 6 })}`);
  }
}

/** The Status carried by the client's ApiException (its body is the response text for non-2xx answers). */
export function statusOf(err) {
  if (!(err instanceof k8s.ApiException)) throw new Error(`expected ApiException, got ${inspect(err)}`);
  const body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  return { code: err.code, body };
}

/**
 * Awaits a call that must fail with ApiException: the HTTP code and the Status's code, reason and
 * (when given) message are checked; the Status is returned.
 */
export async function expectApiError(promise, code, reason, message) {
  let status;
  try {
    await promise;
  } catch (err) {
    status = statusOf(err);
  }
  if (!status) throw new Error(`expected ApiException ${code} ${reason}, but the call succeeded`);
  equal(status.code, code, 'ApiException.code');
  check(status.body && status.body.kind === 'Status', `body is a Status: ${inspect(status.body)}`);
  equal(status.body.code, code, 'Status.code');
  equal(status.body.reason, reason, 'Status.reason');
  if (message !== undefined) equal(status.body.message, message, 'Status.message');
  return status.body;
}

/** A fresh namespace for one scenario, deleted afterwards (the scenario owns everything in it). */
export async function withNamespace(kc, prefix, fn) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
  await core.createNamespace({ body: { metadata: { name } } });
  try {
    return await fn(name);
  } finally {
    await core.deleteNamespace({ name }).catch(() => {});
  }
}

/** Polls <fn> until it returns a truthy value (a generous timeout, never a timing assertion). */
export async function waitFor(what, fn, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${inspect(last, { depth: 4 })}`);
}

/** A pod of the process runtime: `sh -c <command>` runs as a host process. */
export function shellPod(name, command, restartPolicy = 'Always') {
  return {
    metadata: { name },
    spec: {
      restartPolicy,
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', command] }],
    },
  };
}

/** Waits until the pod's first container has started. */
export async function waitStarted(core, namespace, name) {
  return waitFor(`pod ${namespace}/${name} started`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace });
    return pod.status?.containerStatuses?.[0]?.started === true ? pod : null;
  });
}

/** A Writable that keeps what it receives as text. */
export function collector() {
  const chunks = [];
  const stream = new (class extends Writable {
    _write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    }
  })();
  stream.text = () => Buffer.concat(chunks).toString('utf8');
  return stream;
}
