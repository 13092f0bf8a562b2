namespace Portcullis.E2E.Tests;

/// <summary>The walkthrough's manifests, verbatim (../shared/seed/).</summary>
public static class SeedManifests
{
    public const string ServiceAccount = """
        apiVersion: v1
        kind: ServiceAccount
        metadata:
          name: demo-sa
          namespace: default
        """;

    public const string Role = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: pod-reader
          namespace: default
        rules:
        - apiGroups: [""]
          resources: ["pods"]
          verbs: ["get", "list"]
        """;

    public const string RoleBinding = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: pod-reader-binding
          namespace: default
        subjects:
        - kind: ServiceAccount
          name: demo-sa  # Link to our Service Account
          namespace: default
        roleRef:
          kind: Role
          name: pod-reader
          apiGroup: rbac.authorization.k8s.io
        """;

    public const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: test-pod
          namespace: default
        spec:
          serviceAccountName: demo-sa  # Assign the Service Account
          containers:
          - name: test-container
            image: curlimages/curl  # Lightweight image with curl installed
            command: ["sleep", "3600"]  # Keep the pod running
        """;
}
