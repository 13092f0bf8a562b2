using System.Text.Json.Nodes;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Errors;
using static Portcullis.Server.Admission.Plugins.PodAdmissionJson;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Psp;

/// <summary>
/// Upstream's PodSecurityPolicy admission plugin (plugin/pkg/admission/security/podsecuritypolicy,
/// Kubernetes 1.24; removed upstream in 1.25, succeeded by Pod Security admission). Off by default.
/// A pod is admitted by a policy that the requesting user or the pod's service account may "use"
/// (RBAC verb use on podsecuritypolicies in group policy or extensions, by resource name, in the
/// pod's namespace). Policies are tried by name; one that admits the pod unchanged wins, else the
/// first that admits it after defaulting. The admitting policy's name goes into the
/// <c>kubernetes.io/psp</c> annotation. Updates are validated without mutation.
/// </summary>
public sealed class PodSecurityPolicyAdmission(
    Func<CancellationToken, Task<IReadOnlyList<JsonObject>>> listPolicies,
    IAuthorizer authorizer) : IMutatingAdmission, IValidatingAdmission
{
    public const string ValidatedPspAnnotation = "kubernetes.io/psp";

    public string Name => "PodSecurityPolicy";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update;

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (ShouldIgnore(r) || r.Operation != Operation.Create) return;
        var (allowed, name, errors) = await ComputeAsync(r, mutationAllowed: true, hint: "", ct);
        if (allowed is null)
            throw Forbidden(r, "unable to validate against any pod security policy: " + GoErrorList(errors));
        // Replace the pod's content with the admitted (possibly defaulted) pod.
        foreach (var key in r.Object.Select(kv => kv.Key).ToList()) r.Object.Remove(key);
        foreach (var (key, value) in allowed.ToList())
        {
            allowed.Remove(key);
            r.Object[key] = value;
        }
        EnsureObj(EnsureObj(r.Object, "metadata"), "annotations")[ValidatedPspAnnotation] = name;
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (ShouldIgnore(r)) return;
        var hint = Annotation(r.Object, ValidatedPspAnnotation) ?? "";
        var (allowed, _, errors) = await ComputeAsync(r, mutationAllowed: false, hint, ct);
        if (allowed is not null && JsonNode.DeepEquals(allowed, r.Object)) return;
        throw Forbidden(r, "unable to validate against any pod security policy: " + GoErrorList(errors));
    }

    /// <summary>Pods only, no subresources, and not updates that only touch ownerReferences or finalizers (the garbage collector's).</summary>
    private static bool ShouldIgnore(AdmissionRequest r)
    {
        if (!IsPod(r) || r.Subresource.Length > 0) return true;
        if (r.Operation == Operation.Update && r.OldObject is not null)
        {
            var a = WithoutGcFields(r.Object);
            var b = WithoutGcFields(r.OldObject);
            return JsonNode.DeepEquals(a, b);
        }
        return false;
    }

    private static JsonObject WithoutGcFields(JsonObject o)
    {
        var copy = (JsonObject)o.DeepClone();
        if (copy["metadata"] is JsonObject m)
            foreach (var k in new[] { "ownerReferences", "finalizers", "managedFields", "resourceVersion", "generation" }) m.Remove(k);
        copy.Remove("status");
        return copy;
    }

    /// <summary>computeSecurityContext.</summary>
    private async Task<(JsonObject? Pod, string Name, List<FieldError> Errors)> ComputeAsync(
        AdmissionRequest r, bool mutationAllowed, string hint, CancellationToken ct)
    {
        var pod = r.Object;
        var saName = new PodView(pod).ServiceAccountName;
        UserInfo? sa = saName.Length == 0 ? null : new UserInfo($"system:serviceaccount:{r.Namespace}:{saName}", "",
            ["system:serviceaccounts", "system:serviceaccounts:" + r.Namespace], UserInfo.NoExtra);

        IReadOnlyList<JsonObject> policies;
        try { policies = await listPolicies(ct); }
        catch (ApiException e) { throw Forbidden(r, "PodSecurityPolicy: " + e.Message); }

        var ordered = policies
            .OrderBy(p => !mutationAllowed && Str(Obj(p, "metadata"), "name") == hint ? 0 : 1)
            .ThenBy(p => Str(Obj(p, "metadata"), "name"), StringComparer.Ordinal)
            .ToList();
        var providers = new List<PspProvider>();
        foreach (var p in ordered)
            if (PspProvider.Create(p, out _) is { } provider) providers.Add(provider);
        if (providers.Count == 0)
            throw Forbidden(r, "PodSecurityPolicy: no providers available to validate pod request");

        JsonObject? mutatedPod = null;
        var mutatingPsp = "";
        var failures = new List<(string Psp, List<FieldError> Errors)>();
        foreach (var provider in providers)
        {
            var copy = (JsonObject)pod.DeepClone();
            provider.MutatePod(copy);
            var errs = provider.ValidatePod(copy);
            if (errs.Count > 0)
            {
                failures.Add((provider.Name, errs));
                continue;
            }
            var mutated = !JsonNode.DeepEquals(pod, copy);
            if (mutated && !mutationAllowed) continue;
            if (!await AuthorizedAsync(r.User, sa, r.Namespace, provider.Name, ct)) continue;
            if (!mutated) return (copy, provider.Name, []);
            if (mutationAllowed && mutatedPod is null)
            {
                mutatedPod = copy;
                mutatingPsp = provider.Name;
            }
        }
        if (mutatedPod is not null) return (mutatedPod, mutatingPsp, []);

        // Only the errors of policies the user or service account could have used.
        var aggregate = new List<FieldError>();
        foreach (var (psp, errs) in failures)
            if (await AuthorizedAsync(r.User, sa, r.Namespace, psp, ct)) aggregate.AddRange(errs);
        return (null, "", aggregate);
    }

    /// <summary>The service account first, then the requesting user; group policy, then extensions.</summary>
    private async Task<bool> AuthorizedAsync(UserInfo user, UserInfo? sa, string ns, string policy, CancellationToken ct) =>
        await AuthorizedAsync(sa, ns, policy, ct) || await AuthorizedAsync(user, ns, policy, ct);

    private async Task<bool> AuthorizedAsync(UserInfo? info, string ns, string policy, CancellationToken ct)
    {
        if (info is null) return false;
        foreach (var group in new[] { "policy", "extensions" })
        {
            var attrs = new AuthorizationAttributes(info, Verb.Use, true, Namespace: ns, ApiGroup: group, ApiVersion: "*",
                Resource: "podsecuritypolicies", Name: policy);
            if ((await authorizer.AuthorizeAsync(attrs, ct)).Decision == Decision.Allow) return true;
        }
        return false;
    }

    /// <summary>Go's %v of a field.ErrorList: the errors' texts between brackets, separated by spaces.</summary>
    public static string GoErrorList(IEnumerable<FieldError> errors) => "[" + string.Join(" ", errors.Select(e => e.ToString())) + "]";
}
