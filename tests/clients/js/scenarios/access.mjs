// Authorization reviews (SubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview),
// TokenRequest (createNamespacedServiceAccountToken) and calling the API with the returned token.
import * as k8s from '@kubernetes/client-node';
import { check, equal, expectApiError, kubeConfigWithToken, waitFor, withNamespace } from '../lib.mjs';

/** A Role "pod-reader" allowing get/list on pods (created once per namespace) and a RoleBinding <binding> of it to <subject>. */
async function grantPodReader(kc, namespace, subject, binding = 'pod-reader') {
  const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: {
    metadata: { name: 'pod-reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } })
    .catch((e) => { if (!(e instanceof k8s.ApiException && e.code === 409)) throw e; });
  await rbac.createNamespacedRoleBinding({ namespace, body: {
    metadata: { name: binding }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' }, subjects: [subject] } });
  // The authorizer follows RBAC objects through a watch, as upstream's informers do: a grant applies shortly after
  // its write. Wait until a SubjectAccessReview for the subject says so.
  const sa = subject.kind === 'ServiceAccount';
  const user = sa ? `system:serviceaccount:${subject.namespace}:${subject.name}` : subject.name;
  const groups = sa ? ['system:serviceaccounts', `system:serviceaccounts:${subject.namespace}`, 'system:authenticated'] : ['system:authenticated'];
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  await waitFor(`RoleBinding ${binding} to take effect`, async () => (await authz.createSubjectAccessReview({ body: {
    spec: { user, groups, resourceAttributes: { namespace, verb: 'list', resource: 'pods' } } } })).status.allowed);
}

export async function access(kc) {
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  await withNamespace(kc, 'js-access', async (namespace) => {
    const sar = (user, verb, resource, groups) => authz.createSubjectAccessReview({ body: {
      spec: { user, groups, resourceAttributes: { namespace, verb, resource } } } });

    let r = await sar('alice', 'list', 'pods');
    equal(r.status.allowed, false, 'alice cannot list pods before the binding');
    await grantPodReader(kc, namespace, { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' });
    r = await sar('alice', 'list', 'pods');
    equal(r.status.allowed, true, 'alice can list pods after the binding');
    equal(r.status.reason, `RBAC: allowed by RoleBinding "pod-reader/${namespace}" of Role "pod-reader" to User "alice"`, 'allowed reason');
    equal((await sar('alice', 'delete', 'pods')).status.allowed, false, 'alice cannot delete pods');
    equal((await sar('bob', 'get', 'pods', ['system:masters'])).status.allowed, true, 'system:masters may do anything');
    const nonResource = await authz.createSubjectAccessReview({ body: { spec: { user: 'alice', groups: ['system:authenticated'], nonResourceAttributes: { path: '/healthz', verb: 'get' } } } });
    equal(nonResource.status.allowed, true, 'system:authenticated may get /healthz (system:public-info-viewer)');
    await expectApiError(authz.createSubjectAccessReview({ body: { spec: { user: 'alice' } } }), 422, 'Invalid');

    // The admin's own reviews.
    const self = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, verb: 'create', resource: 'pods' } } } });
    equal(self.status.allowed, true, 'the admin may create pods');
    const ns = await authz.createNamespacedLocalSubjectAccessReview({ namespace, body: {
      spec: { user: 'alice', resourceAttributes: { namespace, verb: 'get', resource: 'pods' } } } });
    equal(ns.status.allowed, true, 'LocalSubjectAccessReview for alice');

    // A ServiceAccount's own view, through a TokenRequest token: what it may do here.
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'viewer' } } });
    await grantPodReader(kc, namespace, { kind: 'ServiceAccount', name: 'viewer', namespace }, 'viewer-reads-pods');
    const token = (await core.createNamespacedServiceAccountToken({ name: 'viewer', namespace, body: { spec: { expirationSeconds: 3600 } } })).status.token;
    const asViewer = kubeConfigWithToken(kc, token).makeApiClient(k8s.AuthorizationV1Api);
    const rules = await asViewer.createSelfSubjectRulesReview({ body: { spec: { namespace } } });
    equal(rules.status.incomplete, false, 'rules complete');
    check(rules.status.resourceRules.some((x) => equal2(x.resources, ['pods']) && equal2([...x.verbs].sort(), ['get', 'list'])),
      `rules include get/list pods: ${JSON.stringify(rules.status.resourceRules)}`);
    check(rules.status.resourceRules.some((x) => x.resources?.includes('selfsubjectaccessreviews')), 'rules include the basic-user rules');
    const own = await asViewer.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, verb: 'list', resource: 'pods' } } } });
    equal(own.status.allowed, true, 'viewer may list pods');
    const denied = await asViewer.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, verb: 'list', resource: 'secrets' } } } });
    equal(denied.status.allowed, false, 'viewer may not list secrets');
  });
}

function equal2(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function token(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-token', async (namespace) => {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'robot' } } });
    const tr = await core.createNamespacedServiceAccountToken({ name: 'robot', namespace,
      body: { spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 } } });
    check(typeof tr.status.token === 'string' && tr.status.token.split('.').length === 3, 'a JWT');
    check(tr.status.expirationTimestamp instanceof Date, 'expirationTimestamp parsed into a Date');
    const claims = JSON.parse(Buffer.from(tr.status.token.split('.')[1], 'base64url').toString());
    equal(claims.sub, `system:serviceaccount:${namespace}:robot`, 'sub claim');
    equal(claims.aud, ['https://kubernetes.default.svc.cluster.local'], 'aud claim');
    equal(claims.exp - claims.iat, 600, 'lifetime');

    // Who the token is, as the API sees it.
    const robot = kubeConfigWithToken(kc, tr.status.token);
    const review = await robot.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    equal(review.status.userInfo.username, `system:serviceaccount:${namespace}:robot`, 'username');
    check(review.status.userInfo.groups.includes(`system:serviceaccounts:${namespace}`), 'namespace group');
    equal(review.status.userInfo.extra?.['authentication.kubernetes.io/credential-id']?.length, 1, 'credential-id extra');

    // Without a grant: 403 with the upstream message; with one: the call works.
    const robotCore = robot.makeApiClient(k8s.CoreV1Api);
    await expectApiError(robotCore.listNamespacedPod({ namespace }), 403, 'Forbidden',
      `pods is forbidden: User "system:serviceaccount:${namespace}:robot" cannot list resource "pods" in API group "" in the namespace "${namespace}"`);
    await grantPodReader(kc, namespace, { kind: 'ServiceAccount', name: 'robot', namespace });
    const pods = await robotCore.listNamespacedPod({ namespace });
    equal(pods.items, [], 'the robot lists pods once bound');

    // TokenReview of the token, as the admin.
    const tokenReview = await kc.makeApiClient(k8s.AuthenticationV1Api).createTokenReview({ body: {
      spec: { token: tr.status.token, audiences: ['https://kubernetes.default.svc.cluster.local'] } } });
    equal(tokenReview.status.authenticated, true, 'TokenReview authenticated');
    equal(tokenReview.status.user.username, `system:serviceaccount:${namespace}:robot`, 'TokenReview user');

    // A token for a missing ServiceAccount is a 404.
    await expectApiError(core.createNamespacedServiceAccountToken({ name: 'ghost', namespace, body: { spec: {} } }), 404, 'NotFound',
      'serviceaccounts "ghost" not found');
    // Deleting the ServiceAccount invalidates its tokens: 401.
    await core.deleteNamespacedServiceAccount({ name: 'robot', namespace });
    let unauthorized;
    try { await robotCore.listNamespacedPod({ namespace }); } catch (e) { unauthorized = e; }
    check(unauthorized instanceof k8s.ApiException && unauthorized.code === 401, `401 after the ServiceAccount is gone: ${unauthorized}`);
  });
}

/** The client's errors: ApiException with the HTTP code and the Status body's reason and message. */
export async function errors(kc) {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await withNamespace(kc, 'js-errors', async (namespace) => {
    await expectApiError(core.readNamespacedConfigMap({ name: 'missing', namespace }), 404, 'NotFound', 'configmaps "missing" not found');
    await expectApiError(core.readNamespace({ name: `${namespace}-none` }), 404, 'NotFound', `namespaces "${namespace}-none" not found`);

    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'dup' }, data: { v: '1' } } });
    const exists = await expectApiError(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'dup' } } }),
      409, 'AlreadyExists', 'configmaps "dup" already exists');
    equal(exists.details, { name: 'dup', kind: 'configmaps' }, 'AlreadyExists details');

    await core.patchNamespacedConfigMap({ name: 'dup', namespace, body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await expectApiError(core.replaceNamespacedConfigMap({ name: 'dup', namespace, body: cm }), 409, 'Conflict',
      'Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again');

    const invalid = await expectApiError(core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'Bad_Name' } } }), 422, 'Invalid');
    equal(invalid.details.causes[0].field, 'metadata.name', 'Invalid cause field');
    check(invalid.message.startsWith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'), invalid.message);

    // 403 for a caller without a grant (a ServiceAccount token), with the Status's details.
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'nobody' } } });
    const t = (await core.createNamespacedServiceAccountToken({ name: 'nobody', namespace, body: { spec: {} } })).status.token;
    const forbidden = await expectApiError(kubeConfigWithToken(kc, t).makeApiClient(k8s.CoreV1Api).readNamespacedConfigMap({ name: 'dup', namespace }),
      403, 'Forbidden',
      `configmaps "dup" is forbidden: User "system:serviceaccount:${namespace}:nobody" cannot get resource "configmaps" in API group "" in the namespace "${namespace}"`);
    equal(forbidden.details, { name: 'dup', kind: 'configmaps' }, 'Forbidden details');

    // The Watch class reports a refused watch through its done callback, as an Error with the HTTP status.
    const watchErr = await new Promise((resolve) => {
      new k8s.Watch(kubeConfigWithToken(kc, t)).watch(`/api/v1/namespaces/${namespace}/configmaps`, {}, () => {}, resolve);
    });
    equal(watchErr?.statusCode, 403, 'a forbidden watch');
    equal(watchErr?.message, 'Forbidden', 'the forbidden watch error text (the HTTP status text)');
  });
}
