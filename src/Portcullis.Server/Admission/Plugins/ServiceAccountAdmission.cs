using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using static Portcullis.Server.Admission.Plugins.PodAdmissionJson;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount). On pod
/// create: the service account defaults to "default" and must exist; unless automounting is
/// turned off (the pod's choice wins over the service account's) every container and init
/// container gets the projected kube-api-access volume; the service account's image pull secrets
/// fill a pod that has none; a service account annotated enforce-mountable-secrets limits the
/// secrets the pod may reference. Mirror pods are left alone but may reference neither service
/// accounts nor secrets. Updates of the ephemeralcontainers subresource are held to the same
/// mountable-secrets limit for the ephemeral containers.
/// </summary>
public sealed class ServiceAccountAdmission : IMutatingAdmission, IValidatingAdmission
{
    public const string DefaultServiceAccountName = "default";
    public const string EnforceMountableSecretsAnnotation = "kubernetes.io/enforce-mountable-secrets";
    public const string VolumeNamePrefix = "kube-api-access-";
    public const string TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount";
    public const string MirrorPodAnnotation = "kubernetes.io/config.mirror";
    /// <summary>serviceaccount.WarnOnlyBoundTokenExpirationSeconds: one hour and seven seconds.</summary>
    public const long TokenExpirationSeconds = 3607;
    /// <summary>corev1.ProjectedVolumeSourceDefaultMode (0644).</summary>
    public const long ProjectedDefaultMode = 420;
    /// <summary>utilrand.String's alphabet (no vowels, no confusable characters).</summary>
    public const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    private readonly Func<string, string, CancellationToken, Task<JsonObject?>> _getServiceAccount;
    private readonly Func<int, string> _randomString;
    private readonly TimeSpan? _retryInterval;

    /// <param name="getServiceAccount">(namespace, name) → the ServiceAccount, or null when it does not exist.</param>
    /// <param name="randomString">utilrand.String: n random characters; defaults to <see cref="SuffixAlphabet"/> with Random.Shared.</param>
    /// <param name="retryInterval">
    /// The pause between the lookups of a missing "default" service account (upstream tries ten
    /// times, the controller may be about to create it); null: upstream's random 100–199 ms.
    /// </param>
    public ServiceAccountAdmission(
        Func<string, string, CancellationToken, Task<JsonObject?>> getServiceAccount,
        Func<int, string>? randomString = null,
        TimeSpan? retryInterval = null)
    {
        _getServiceAccount = getServiceAccount;
        _randomString = randomString ?? RandomString;
        _retryInterval = retryInterval;
    }

    /// <summary>Upstream's LimitSecretReferences: enforce mountable secrets for every service account (off upstream).</summary>
    public bool LimitSecretReferences { get; init; }

    /// <summary>Upstream's MountServiceAccountToken (on upstream).</summary>
    public bool MountServiceAccountToken { get; init; } = true;

    public string Name => "ServiceAccount";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public static string RandomString(int n)
    {
        var chars = new char[n];
        for (var i = 0; i < n; i++) chars[i] = SuffixAlphabet[Random.Shared.Next(SuffixAlphabet.Length)];
        return new string(chars);
    }

    private static bool Ignored(AdmissionRequest r) =>
        !IsPod(r) || (r.Subresource.Length > 0 && r.Subresource != "ephemeralcontainers");

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (Ignored(r) || r.Operation != Operation.Create) return;
        var pod = r.Object;

        // Mirror pods are the kubelet's: their spec must not change, only be checked.
        if (HasAnnotation(pod, MirrorPodAnnotation))
        {
            await ValidateAsync(r, ct);
            return;
        }

        var spec = EnsureObj(pod, "spec");
        if (new PodSpecView(spec).ServiceAccountName.Length == 0) spec["serviceAccountName"] = DefaultServiceAccountName;
        var saName = new PodSpecView(spec).ServiceAccountName;
        spec["serviceAccount"] = saName; // the deprecated alias mirrors the name on the way out

        var sa = await GetServiceAccountAsync(r, saName, ct);
        if (MountServiceAccountToken && ShouldAutomount(sa, spec)) MountToken(spec);

        if (Arr(spec, "imagePullSecrets") is not { Count: > 0 })
        {
            var fromSa = Arr(sa, "imagePullSecrets");
            if (fromSa is { Count: > 0 })
            {
                var copy = new JsonArray();
                foreach (var s in fromSa)
                {
                    var name = Str(s as JsonObject, "name");
                    copy.Add((JsonNode)(name.Length > 0 ? new JsonObject { ["name"] = name } : new JsonObject()));
                }
                spec["imagePullSecrets"] = copy;
            }
        }

        await ValidateAsync(r, ct);
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (Ignored(r)) return;
        var pod = r.Object;
        var spec = Obj(pod, "spec");

        if (r.Operation == Operation.Update && r.Subresource == "ephemeralcontainers")
        {
            await LimitEphemeralContainerSecretReferencesAsync(r, spec, ct);
            return;
        }
        if (r.Operation != Operation.Create) return;

        if (HasAnnotation(pod, MirrorPodAnnotation))
        {
            ValidateMirrorPod(r, spec);
            return;
        }

        var saName = new PodSpecView(spec).ServiceAccountName;
        if (saName.Length == 0)
            throw Forbidden(r, $"no service account specified for pod {r.Namespace}/{PodName(r)}");
        var sa = await GetServiceAccountAsync(r, saName, ct);
        if (EnforcesMountableSecrets(sa) && LimitSecretReferencesError(sa, spec) is { } error)
            throw Forbidden(r, error);
    }

    private static string PodName(AdmissionRequest r) => Str(Obj(r.Object, "metadata"), "name");

    private static void ValidateMirrorPod(AdmissionRequest r, JsonObject? spec)
    {
        if (new PodSpecView(spec).ServiceAccountName.Length > 0)
            throw Forbidden(r, "a mirror pod may not reference service accounts");
        if (ReferencesAnySecret(spec))
            throw Forbidden(r, "a mirror pod may not reference secrets");
        foreach (var v in new PodSpecView(spec).Volumes)
            foreach (var source in Items(Obj(v, "projected"), "sources"))
                if (Obj(source, "serviceAccountToken") is not null)
                    throw Forbidden(r, "a mirror pod may not use ServiceAccountToken volume projections");
    }

    /// <summary>podutil.VisitPodSecretNames over all containers: does the pod name any secret at all?</summary>
    private static bool ReferencesAnySecret(JsonObject? spec)
    {
        if (Arr(spec, "imagePullSecrets") is { Count: > 0 }) return true;
        foreach (var c in new PodSpecView(spec).AllContainers)
        {
            if (Items(c, "envFrom").Any(e => Obj(e, "secretRef") is not null)) return true;
            if (Items(c, "env").Any(e => Obj(Obj(e, "valueFrom"), "secretKeyRef") is not null)) return true;
        }
        foreach (var v in new PodSpecView(spec).Volumes)
        {
            if (Obj(v, "azureFile") is { } az) { if (Str(az, "secretName").Length > 0) return true; continue; }
            if (Obj(v, "projected") is { } p)
            {
                if (Items(p, "sources").Any(s => Obj(s, "secret") is not null)) return true;
                continue;
            }
            if (Obj(v, "secret") is not null) return true;
            if (Obj(Obj(v, "csi"), "nodePublishSecretRef") is not null) return true;
            foreach (var kind in new[] { "cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi", "storageos" })
                if (Obj(Obj(v, kind), "secretRef") is not null) return true;
        }
        return false;
    }

    private static bool ShouldAutomount(JsonObject sa, JsonObject spec) =>
        Bool(spec, "automountServiceAccountToken") ?? Bool(sa, "automountServiceAccountToken") ?? true;

    private bool EnforcesMountableSecrets(JsonObject sa) =>
        LimitSecretReferences || ParseGoBool(Annotation(sa, EnforceMountableSecretsAnnotation));

    /// <summary>
    /// The service account, looked up once (ten times, paused, for "default", which the
    /// service account controller may not have created yet); Forbidden when missing.
    /// </summary>
    private async Task<JsonObject> GetServiceAccountAsync(AdmissionRequest r, string name, CancellationToken ct)
    {
        var ns = r.Namespace;
        var attempts = name == DefaultServiceAccountName ? 10 : 1;
        var pause = _retryInterval ?? TimeSpan.FromMilliseconds(100 + Random.Shared.Next(100));
        for (var i = 0; i < attempts; i++)
        {
            if (i > 0 && pause > TimeSpan.Zero) await Task.Delay(pause, ct);
            JsonObject? sa;
            try { sa = await _getServiceAccount(ns, name, ct); }
            catch (ApiException e) when (e.Code == 404) { sa = null; }
            catch (ApiException e)
            {
                throw Forbidden(r, $"error looking up service account {ns}/{name}: {e.Message}");
            }
            if (sa is not null) return sa;
        }
        throw Forbidden(r, $"error looking up service account {ns}/{name}: serviceaccount \"{name}\" not found");
    }

    /// <summary>The first secret reference the service account does not allow, as upstream words it; null when all are allowed.</summary>
    private static string? LimitSecretReferencesError(JsonObject sa, JsonObject? spec)
    {
        var saName = Str(Obj(sa, "metadata"), "name");
        var mountable = Items(sa, "secrets").Select(s => Str(s, "name")).ToHashSet(StringComparer.Ordinal);
        foreach (var v in new PodSpecView(spec).Volumes)
        {
            if (Obj(v, "secret") is not { } secret) continue;
            var secretName = Str(secret, "secretName");
            if (!mountable.Contains(secretName))
                return $"volume with secret.secretName=\"{secretName}\" is not allowed because service account {saName} does not reference that secret";
        }
        if (ContainerSecretError(new PodSpecView(spec).InitContainers, "init container", mountable, saName) is { } initError) return initError;
        if (ContainerSecretError(new PodSpecView(spec).Containers, "container", mountable, saName) is { } containerError) return containerError;

        var pullSecrets = Items(sa, "imagePullSecrets").Select(s => Str(s, "name")).ToHashSet(StringComparer.Ordinal);
        var i = 0;
        foreach (var node in Arr(spec, "imagePullSecrets") ?? [])
        {
            var name = Str(node as JsonObject, "name");
            if (!pullSecrets.Contains(name))
                return $"imagePullSecrets[{i}].name=\"{name}\" is not allowed because service account {saName} does not reference that imagePullSecret";
            i++;
        }
        return null;
    }

    /// <summary>env secretKeyRefs, then envFrom secretRefs, container by container.</summary>
    private static string? ContainerSecretError(IEnumerable<JsonObject> containers, string what, HashSet<string> mountable, string saName)
    {
        foreach (var c in containers)
        {
            var cName = Str(c, "name");
            foreach (var env in Items(c, "env"))
            {
                if (Obj(Obj(env, "valueFrom"), "secretKeyRef") is not { } keyRef) continue;
                var secretName = Str(keyRef, "name");
                if (!mountable.Contains(secretName))
                    return $"{what} {cName} with envVar {Str(env, "name")} referencing secret.secretName=\"{secretName}\" is not allowed because service account {saName} does not reference that secret";
            }
            foreach (var envFrom in Items(c, "envFrom"))
            {
                if (Obj(envFrom, "secretRef") is not { } secretRef) continue;
                var secretName = Str(secretRef, "name");
                if (!mountable.Contains(secretName))
                    return $"{what} {cName} with envFrom referencing secret.secretName=\"{secretName}\" is not allowed because service account {saName} does not reference that secret";
            }
        }
        return null;
    }

    private async Task LimitEphemeralContainerSecretReferencesAsync(AdmissionRequest r, JsonObject? spec, CancellationToken ct)
    {
        var saName = new PodSpecView(spec).ServiceAccountName;
        if (saName.Length == 0)
            throw Forbidden(r, $"no service account specified for pod {r.Namespace}/{PodName(r)}");
        var sa = await GetServiceAccountAsync(r, saName, ct);
        if (!EnforcesMountableSecrets(sa)) return;
        var mountable = Items(sa, "secrets").Select(s => Str(s, "name")).ToHashSet(StringComparer.Ordinal);
        // Upstream returns these as plain errors, not wrapped in Forbidden.
        if (ContainerSecretError(new PodSpecView(spec).EphemeralContainers, "ephemeral container", mountable, Str(Obj(sa, "metadata"), "name")) is { } error)
            throw Plain(error);
    }

    /// <summary>Mounts the projected token volume into every init container and container that has nothing at the token path.</summary>
    private void MountToken(JsonObject spec)
    {
        string? volumeName = null;
        foreach (var v in new PodSpecView(spec).Volumes)
        {
            var name = Str(v, "name");
            if (name.StartsWith(VolumeNamePrefix, StringComparison.Ordinal)) { volumeName = name; break; }
        }
        var hasVolume = volumeName is not null;
        volumeName ??= VolumeNamePrefix + _randomString(5);

        var needsVolume = false;
        var specView = new PodSpecView(spec);
        foreach (var c in specView.InitContainers.Concat(specView.Containers))
        {
            if (Items(c, "volumeMounts").Any(m => Str(m, "mountPath") == TokenMountPath)) continue;
            if (c["volumeMounts"] is not JsonArray mounts) c["volumeMounts"] = mounts = [];
            mounts.Add((JsonNode)new JsonObject { ["name"] = volumeName, ["readOnly"] = true, ["mountPath"] = TokenMountPath });
            needsVolume = true;
        }

        if (hasVolume || !needsVolume) return;
        if (spec["volumes"] is not JsonArray volumes) spec["volumes"] = volumes = [];
        volumes.Add((JsonNode)new JsonObject { ["name"] = volumeName, ["projected"] = TokenVolumeSource() });
    }

    /// <summary>The projected volume source of the service account token (TokenVolumeSource upstream).</summary>
    public static JsonObject TokenVolumeSource() => new()
    {
        ["sources"] = new JsonArray(
            new JsonObject
            {
                ["serviceAccountToken"] = new JsonObject { ["expirationSeconds"] = Num(TokenExpirationSeconds), ["path"] = "token" },
            },
            new JsonObject
            {
                ["configMap"] = new JsonObject
                {
                    ["name"] = "kube-root-ca.crt",
                    ["items"] = new JsonArray(new JsonObject { ["key"] = "ca.crt", ["path"] = "ca.crt" }),
                },
            },
            new JsonObject
            {
                ["downwardAPI"] = new JsonObject
                {
                    ["items"] = new JsonArray(new JsonObject
                    {
                        ["path"] = "namespace",
                        ["fieldRef"] = new JsonObject { ["apiVersion"] = "v1", ["fieldPath"] = "metadata.namespace" },
                    }),
                },
            }),
        ["defaultMode"] = Num(ProjectedDefaultMode),
    };
}
