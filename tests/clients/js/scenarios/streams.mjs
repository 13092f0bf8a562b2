// Exec over WebSocket (the client's Exec: v5.channel.k8s.io, falling back to v4) and logs
// (readNamespacedPodLog and the Log class with follow) against pods of the process runtime.
import * as k8s from '@kubernetes/client-node';
import { PassThrough } from 'node:stream';
import { check, collector, equal, shellPod, waitFor, waitStarted, withNamespace } from '../lib.mjs';

/** Runs one exec and resolves once the server's status (the error channel) arrived and the socket closed. */
function execOnce(kc, namespace, pod, command, stdin = null) {
  const stdout = collector();
  const stderr = collector();
  return new Promise((resolve, reject) => {
    let status;
    new k8s.Exec(kc)
      .exec(namespace, pod, 'main', command, stdout, stderr, stdin, false, (s) => { status = s; })
      .then((ws) => {
        ws.on('close', () => resolve({ status, stdout: stdout.text(), stderr: stderr.text(), protocol: ws.protocol }));
        ws.on('error', reject);
      }, reject);
  });
}

export async function exec(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-exec', async (namespace) => {
    await core.createNamespacedPod({ namespace, body: shellPod('target', 'sleep 3600') });
    await waitStarted(core, namespace, 'target');

    // stdout, stderr and the exit code (a Failure Status with reason NonZeroExitCode and an ExitCode cause).
    const failed = await execOnce(kc, namespace, 'target', ['sh', '-c', 'echo out; echo err >&2; exit 7']);
    equal(failed.protocol, 'v5.channel.k8s.io', 'negotiated subprotocol');
    equal(failed.stdout, 'out\n', 'stdout');
    equal(failed.stderr, 'err\n', 'stderr');
    equal(failed.status?.status, 'Failure', 'status of a non-zero exit');
    equal(failed.status?.reason, 'NonZeroExitCode', 'reason of a non-zero exit');
    equal(failed.status?.message, 'command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 7], exit code 7',
      "message of a non-zero exit (the kubelet's CRI streaming text)");
    equal(failed.status?.details?.causes, [{ reason: 'ExitCode', message: '7' }], 'exit code cause');

    const ok = await execOnce(kc, namespace, 'target', ['printenv', 'HOSTNAME']);
    equal(ok.stdout, 'target\n', 'the command ran in the pod (its hostname)');
    equal(ok.status?.status, 'Success', 'status of a zero exit');

    // Interactive stdin: a line goes in, comes back, and ending stdin (v5's close frame) ends cat.
    const stdin = new PassThrough();
    const stdout = collector();
    let status;
    const ws = await new k8s.Exec(kc).exec(namespace, 'target', 'main', ['cat'], stdout, null, stdin, false, (s) => { status = s; });
    const closed = new Promise((r) => ws.on('close', r));
    stdin.write('hello from js\n');
    await waitFor('the echo of the first line', () => stdout.text() === 'hello from js\n');
    stdin.write('second line\n');
    await waitFor('the echo of the second line', () => stdout.text() === 'hello from js\nsecond line\n');
    stdin.end();
    await closed;
    equal(status?.status, 'Success', 'cat ended when stdin closed');

    // A tty: the client sends the terminal's size (its stdout's rows and columns) on the resize channel
    // as {"height","width"}. The client sends it when its stream is set up, which may come after the first stdin,
    // so the command looks again (for up to 10 s) until the size has landed.
    const term = collector();
    term.rows = 40;
    term.columns = 100;
    const keys = new PassThrough();
    let ttyStatus;
    const ttyWs = await new k8s.Exec(kc).exec(namespace, 'target', 'main', ['sh', '-c', 'read x; for i in $(seq 100); do s=$(stty size); [ "$s" = "40 100" ] && break; sleep 0.1; done; echo "$s"; [ -t 0 ] && echo tty-yes'],
      term, null, keys, true, (s) => { ttyStatus = s; });
    const ttyClosed = new Promise((r) => ttyWs.on('close', r));
    keys.write('go\n');
    await ttyClosed;
    equal(ttyStatus?.status, 'Success', 'tty exec status');
    check(term.text().includes('40 100\r\n'), `stty size saw the client's terminal size: ${JSON.stringify(term.text())}`);
    check(term.text().includes('tty-yes'), `stdin is a terminal: ${JSON.stringify(term.text())}`);

    // Exec into a missing container: the server refuses the upgrade with a 400 Status, which the
    // client's WebSocket reports as the connect error.
    let err;
    await new k8s.Exec(kc).exec(namespace, 'target', 'nope', ['true'], collector(), null, null, false).then(
      (socket) => socket.close(), (e) => { err = e; });
    check(err && /Unexpected server response: 400/.test(err.message ?? String(err)), `exec into a missing container: ${err?.message ?? err}`);
  });
}

export async function logs(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-logs', async (namespace) => {
    await core.createNamespacedPod({ namespace, body: shellPod('talker', 'for i in 1 2 3; do echo line $i; sleep 1; done', 'Never') });
    await waitStarted(core, namespace, 'talker').catch(() => {});

    // The Log class with follow streams until the container ends.
    const out = collector();
    const finished = new Promise((resolve) => out.on('finish', resolve));
    await new k8s.Log(kc).log(namespace, 'talker', 'main', out, { follow: true });
    await finished;
    equal(out.text(), 'line 1\nline 2\nline 3\n', 'followed log');

    await waitFor('pod Succeeded', async () => (await core.readNamespacedPod({ name: 'talker', namespace })).status.phase === 'Succeeded');
    equal(await core.readNamespacedPodLog({ name: 'talker', namespace }), 'line 1\nline 2\nline 3\n', 'readNamespacedPodLog');
    equal(await core.readNamespacedPodLog({ name: 'talker', namespace, container: 'main', tailLines: 1 }), 'line 3\n', 'tailLines');
    const stamped = await core.readNamespacedPodLog({ name: 'talker', namespace, tailLines: 1, timestamps: true });
    check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 3\n$/.test(stamped), `timestamps: ${stamped}`);
    equal(await core.readNamespacedPodLog({ name: 'talker', namespace, limitBytes: 4 }), 'line', 'limitBytes');

    // The Log class (without follow) with tailLines.
    const tail = collector();
    const tailDone = new Promise((resolve) => tail.on('finish', resolve));
    await new k8s.Log(kc).log(namespace, 'talker', 'main', tail, { tailLines: 2 });
    await tailDone;
    equal(tail.text(), 'line 2\nline 3\n', 'Log with tailLines');
  });
}
