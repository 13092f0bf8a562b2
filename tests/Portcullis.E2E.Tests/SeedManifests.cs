namespace Portcullis.E2E.Tests;

/// <summary>The walkthrough's manifests, verbatim (docs/seed/; <c>SeedManifestFilesTests</c> keeps the two equal).</summary>
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

/// <summary>docs/seed/ (what the walkthrough and scripts/seed-walkthrough.sh use) holds the same manifests as the tests.</summary>
public sealed class SeedManifestFilesTests
{
    private static string Repo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Portcullis.slnx"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("sa.yaml", SeedManifests.ServiceAccount)]
    [InlineData("role.yaml", SeedManifests.Role)]
    [InlineData("role_binding.yaml", SeedManifests.RoleBinding)]
    [InlineData("pod.yaml", SeedManifests.Pod)]
    public void DocsSeed_IsTheSeedVerbatim(string file, string manifest) =>
        Assert.Equal(manifest.Trim(), File.ReadAllText(Path.Combine(Repo(), "docs", "seed", file)).Trim());
}
