"""Scenarios over authorization and tokens with python3-kubernetes: SubjectAccessReview, LocalSubjectAccessReview,
SelfSubjectAccessReview, SelfSubjectRulesReview, and TokenRequest with the returned token used as a bearer token."""
import base64
import datetime
import json

from kubernetes import client

from common import eq, expect_api_error, wait_for


def _claims(jwt):
    """The JWT's payload (not verified: the server does that when the token is used)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _grant(api, ns, name, verbs, resources, user=None, sa=None):
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(ns, {"metadata": {"name": name},
                                     "rules": [{"apiGroups": [""], "resources": resources, "verbs": verbs}]})
    subject = {"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"} if user else \
        {"kind": "ServiceAccount", "name": sa, "namespace": ns}
    rbac.create_namespaced_role_binding(ns, {"metadata": {"name": name},
                                             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                                             "subjects": [subject]})
    # The authorizer follows RBAC objects through a watch, as upstream's informers do: a grant applies shortly after
    # its write. Wait until a SubjectAccessReview for the subject says so.
    who = user or f"system:serviceaccount:{ns}:{sa}"
    groups = ["system:authenticated"] if user else ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]
    review = {"spec": {"user": who, "groups": groups,
                       "resourceAttributes": {"namespace": ns, "verb": verbs[0], "resource": resources[0]}}}
    authz = client.AuthorizationV1Api(api)
    wait_for(lambda: authz.create_subject_access_review(review).status.allowed, f"RoleBinding {name} to take effect")


def _as(api, user):
    impersonated = client.ApiClient(api.configuration)
    impersonated.set_default_header("Impersonate-User", user)
    return impersonated


def access_reviews(api, ns):
    """The four review kinds answer from RBAC as kube-apiserver does (allowed, reason, rules)."""
    _grant(api, ns, "cm-reader", ["get", "list"], ["configmaps"], user="alice")
    authz = client.AuthorizationV1Api(api)

    def sar(user, verb, resource="configmaps", groups=None):
        return authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
            user=user, groups=groups, resource_attributes=client.V1ResourceAttributes(namespace=ns, verb=verb, resource=resource))))

    allowed = sar("alice", "get")
    eq(allowed.status.allowed, True, "alice get configmaps")
    eq(allowed.status.reason, f'RBAC: allowed by RoleBinding "cm-reader/{ns}" of Role "cm-reader" to User "alice"', "reason")
    eq(allowed.kind, "SubjectAccessReview", "kind")
    eq(allowed.spec.user, "alice", "spec echoed")
    denied = sar("alice", "delete")
    eq((denied.status.allowed, bool(denied.status.denied)), (False, False), "alice delete configmaps")
    eq(sar("bob", "get").status.allowed, False, "bob get configmaps")
    eq(sar("admin", "delete", "secrets", ["system:masters"]).status.allowed, True, "system:masters")

    nonres = authz.create_subject_access_review(client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(
        user="alice", groups=["system:authenticated"], non_resource_attributes=client.V1NonResourceAttributes(path="/version", verb="get"))))
    eq(nonres.status.allowed, True, "alice get /version")
    expect_api_error(lambda: authz.create_subject_access_review(client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(user="alice"))), 422, "Invalid")

    local = authz.create_namespaced_local_subject_access_review(ns, client.V1LocalSubjectAccessReview(
        metadata=client.V1ObjectMeta(namespace=ns), spec=client.V1SubjectAccessReviewSpec(
            user="alice", resource_attributes=client.V1ResourceAttributes(namespace=ns, verb="list", resource="configmaps"))))
    eq(local.status.allowed, True, "local review")

    as_alice = client.AuthorizationV1Api(_as(api, "alice"))
    self_review = lambda verb: as_alice.create_self_subject_access_review(client.V1SelfSubjectAccessReview(
        spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(
            namespace=ns, verb=verb, resource="configmaps")))).status.allowed
    eq((self_review("list"), self_review("create")), (True, False), "self reviews as alice")
    eq(authz.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
        resource_attributes=client.V1ResourceAttributes(verb="*", resource="*", group="*")))).status.allowed, True, "admin")

    rules = as_alice.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(
        spec=client.V1SelfSubjectRulesReviewSpec(namespace=ns))).status
    eq(rules.incomplete, False, "rules incomplete")
    resource_rules = [(sorted(r.verbs), sorted(r.resources or [])) for r in rules.resource_rules]
    assert (["get", "list"], ["configmaps"]) in resource_rules, resource_rules
    assert (["create"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]) in resource_rules, resource_rules
    assert any("/version" in (r.non_resource_ur_ls or []) for r in rules.non_resource_rules), rules.non_resource_rules


def _token_client(api, token):
    cfg = client.Configuration()
    cfg.host = api.configuration.host
    cfg.ssl_ca_cert = api.configuration.ssl_ca_cert
    cfg.api_key = {"authorization": token}
    cfg.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(cfg)


def token_request(api, ns):
    """create_namespaced_service_account_token: the token authenticates as the ServiceAccount, with its RBAC only."""
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="robot")))
    _grant(api, ns, "robot-cm", ["list", "create"], ["configmaps"], sa="robot")

    before = datetime.datetime.now(datetime.timezone.utc)
    tr = v1.create_namespaced_service_account_token("robot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)))
    token = tr.status.token
    assert token and token.count(".") == 2, "a JWT"
    eq(tr.kind, "TokenRequest", "kind")
    lifetime = (tr.status.expiration_timestamp - before).total_seconds()
    assert 3500 < lifetime < 3700, f"expirationTimestamp {tr.status.expiration_timestamp} is not an hour ahead"
    assert tr.spec.audiences, "the API server's audiences are filled in"

    robot = client.CoreV1Api(_token_client(api, token))
    robot.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="by-robot")))
    eq([c.metadata.name for c in robot.list_namespaced_config_map(ns).items if c.metadata.name == "by-robot"],
       ["by-robot"], "listed with the token")
    expect_api_error(lambda: robot.list_namespaced_secret(ns), 403, "Forbidden",
                     f'secrets is forbidden: User "system:serviceaccount:{ns}:robot" cannot list resource "secrets" '
                     f'in API group "" in the namespace "{ns}"')
    review = client.AuthorizationV1Api(_token_client(api, token)).create_self_subject_access_review(
        client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(namespace=ns, verb="create", resource="configmaps"))))
    eq(review.status.allowed, True, "self review with the token")

    # A token for another audience, or a made-up one, does not authenticate: 401 Unauthorized.
    other = v1.create_namespaced_service_account_token("robot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=["https://elsewhere.example"]))).status.token
    for bad in (other, token[:-4] + "AAAA"):
        expect_api_error(lambda: client.CoreV1Api(_token_client(api, bad)).list_namespaced_config_map(ns),
                         401, "Unauthorized", "Unauthorized")

    # A token bound to a pod names it in its claims and stops authenticating once the pod is gone.
    pod = v1.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "holder"},
                                        "spec": {"serviceAccountName": "robot", "containers": [
                                            {"name": "main", "image": "busybox", "command": ["sleep", "3600"]}]}})
    bound = v1.create_namespaced_service_account_token("robot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], bound_object_ref=client.V1BoundObjectReference(
            api_version="v1", kind="Pod", name="holder", uid=pod.metadata.uid))))
    eq(bound.spec.bound_object_ref.name, "holder", "bound object echoed")
    claims = _claims(bound.status.token)
    eq((claims["kubernetes.io"]["pod"]["name"], claims["kubernetes.io"]["pod"]["uid"]), ("holder", pod.metadata.uid), "pod claim")
    eq(claims["sub"], f"system:serviceaccount:{ns}:robot", "sub claim")
    holder = client.CoreV1Api(_token_client(api, bound.status.token))
    eq(len([c for c in holder.list_namespaced_config_map(ns).items if c.metadata.name == "by-robot"]), 1, "bound token works")
    v1.delete_namespaced_pod("holder", ns, grace_period_seconds=0)
    wait_for(lambda: not v1.list_namespaced_pod(ns, field_selector="metadata.name=holder").items, "pod holder gone")
    expect_api_error(lambda: holder.list_namespaced_config_map(ns), 401, "Unauthorized", "Unauthorized")
    expect_api_error(lambda: v1.create_namespaced_service_account_token("robot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], bound_object_ref=client.V1BoundObjectReference(
            api_version="v1", kind="Pod", name="holder", uid=pod.metadata.uid)))), 404, "NotFound", 'pods "holder" not found')

    # Validation and a missing ServiceAccount.
    expect_api_error(lambda: v1.create_namespaced_service_account_token("robot", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=60))), 422, "Invalid")
    expect_api_error(lambda: v1.create_namespaced_service_account_token("ghost", ns, client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[]))), 404, "NotFound", 'serviceaccounts "ghost" not found')
