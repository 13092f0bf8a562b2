using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Api.Schema;
using Portcullis.Server.Errors;
using Portcullis.Server.Registry;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Authentication.ServiceAccounts;

/// <summary>
/// Server settings for TokenRequest: the API audiences (the default audience of a token and
/// the set the warn-only extension requires), <c>--service-account-max-token-expiration</c>
/// (0 = none) and <c>--service-account-extend-token-expiration</c>.
/// </summary>
public sealed record TokenRequestSettings(IReadOnlyList<string> ApiAudiences, long MaxExpirationSeconds = 0, bool ExtendExpiration = true)
{
    /// <summary>How long an extended pod-bound token really lives.</summary>
    public long MaxExtendedExpirationSeconds { get; init; } = ServiceAccountTokenIssuer.ExpirationExtensionSeconds;
}

/// <summary>
/// The created TokenRequest (with status), the warnings to send back, and the credential ID for
/// the audit annotation <c>authentication.kubernetes.io/issued-credential-id</c>.
/// </summary>
public sealed record TokenRequestOutcome(JsonObject TokenRequest, IReadOnlyList<string> Warnings, string CredentialId);

/// <summary>
/// <c>POST …/serviceaccounts/NAME/token</c> without the HTTP: upstream's TokenREST.Create
/// (pkg/registry/core/serviceaccount/storage/token.go). Errors are thrown as <see cref="ApiException"/>.
/// </summary>
public sealed class TokenRequestLogic(ServiceAccountTokenIssuer issuer, TokenRequestSettings settings, TimeProvider time)
{
    public const long DefaultExpirationSeconds = 3600;
    public const long MinExpirationSeconds = 10 * 60;
    public const string IssuedCredentialIdAnnotation = "authentication.kubernetes.io/issued-credential-id";
    private const string Group = "authentication.k8s.io";
    private const string Kind = "TokenRequest";

    /// <summary>
    /// Creates a token for the service account <paramref name="name"/> in <paramref name="ns"/>.
    /// <paramref name="admit"/>, when given, runs validating admission on the validated request
    /// before the bound object is read (upstream's createValidation).
    /// </summary>
    public async Task<TokenRequestOutcome> CreateAsync(string ns, string name, JsonObject request,
        ServiceAccountObjectGetters getters, CancellationToken ct = default, Func<JsonObject, CancellationToken, Task>? admit = null)
    {
        var req = (JsonObject)request.DeepClone();
        var meta = req["metadata"] as JsonObject;
        var reqName = TokenObjectFields.Str(meta, "name");
        if (reqName.Length > 0 && reqName != name)
            throw ApiErrors.Invalid(Kind, Group, name, [FieldError.Invalid("metadata.name", reqName, "must match the service account name if specified")]);
        var reqNs = TokenObjectFields.Str(meta, "namespace");
        if (reqNs.Length > 0 && reqNs != ns)
            throw ApiErrors.Invalid(Kind, Group, name, [FieldError.Invalid("metadata.namespace", reqNs, "must match the service account namespace if specified")]);

        var sa = await getters.ServiceAccounts(ns, name, ct) ?? throw ApiErrors.NotFound("serviceaccounts", "", name);

        var spec = req["spec"] as JsonObject ?? new JsonObject();
        var audiences = ReadAudiences(spec);
        if (audiences.Count == 0) audiences = [.. settings.ApiAudiences];
        var expirationSeconds = ReadExpiration(spec);
        var boundRef = spec["boundObjectRef"] as JsonObject;

        var now = time.GetUtcNow();
        if (reqName.Length == 0) Meta.Set(req, "name", Meta.Name(sa).Length > 0 ? Meta.Name(sa) : name);
        if (reqNs.Length == 0) Meta.Set(req, "namespace", Meta.Namespace(sa).Length > 0 ? Meta.Namespace(sa) : ns);
        Meta.Set(req, "creationTimestamp", ObjectShaper.FormatTime(now));
        req.Remove("status");
        req["spec"] = Spec(audiences, expirationSeconds, boundRef);

        var errs = new List<FieldError>();
        if (expirationSeconds < MinExpirationSeconds)
            errs.Add(FieldError.Invalid("spec.expirationSeconds", Num(expirationSeconds), "may not specify a duration less than 10 minutes", quoted: false));
        if (expirationSeconds > 1L << 32)
            errs.Add(FieldError.Invalid("spec.expirationSeconds", Num(expirationSeconds), "may not specify a duration larger than 2^32 seconds", quoted: false));
        if (errs.Count > 0) throw ApiErrors.Invalid(Kind, Group, "", errs);
        if (admit is not null) await admit((JsonObject)req.DeepClone(), ct);

        var binding = boundRef is null ? TokenBinding.None : await ResolveBindingAsync(ns, name, boundRef, getters, ct);

        var warnings = new List<string>();
        if (settings.MaxExpirationSeconds > 0 && expirationSeconds > settings.MaxExpirationSeconds)
        {
            warnings.Add($"requested expiration of {expirationSeconds} seconds shortened to {settings.MaxExpirationSeconds} seconds");
            expirationSeconds = settings.MaxExpirationSeconds;
            req["spec"] = Spec(audiences, expirationSeconds, boundRef);
        }

        // kubelet's 1h7s request for a pod-bound token with API audiences gets the warn-only year.
        long warnAfter = 0, exp = expirationSeconds;
        if (settings.ExtendExpiration && binding.Pod is not null
            && expirationSeconds == ServiceAccountTokenIssuer.WarnOnlyBoundTokenExpirationSeconds
            && audiences.All(a => settings.ApiAudiences.Contains(a)))
        {
            warnAfter = exp;
            exp = settings.MaxExtendedExpirationSeconds;
        }

        var issued = issuer.Issue(sa, binding, exp, audiences, warnAfter);
        req["status"] = new JsonObject
        {
            ["token"] = issued.Token,
            ["expirationTimestamp"] = ObjectShaper.FormatTime(now.AddSeconds(expirationSeconds)),
        };
        var output = new JsonObject { ["kind"] = Kind, ["apiVersion"] = Group + "/v1" };
        foreach (var k in new[] { "metadata", "spec", "status" })
        {
            var v = req[k];
            req.Remove(k);
            output[k] = v;
        }
        return new TokenRequestOutcome(output, warnings, ServiceAccountUser.CredentialIdForJti(issued.Jti));
    }

    /// <summary>
    /// The same with the objects already read: <paramref name="serviceAccount"/>, and the bound
    /// object (Pod, Secret or Node) and a bound pod's Node when the request names them.
    /// </summary>
    public Task<TokenRequestOutcome> CreateAsync(string ns, string name, JsonObject request, JsonObject serviceAccount,
        JsonObject? boundObject = null, JsonObject? podNode = null, CancellationToken ct = default)
    {
        Func<string, string, CancellationToken, Task<JsonObject?>> Of(JsonObject? obj, string kind) => (_, n, _) =>
            Task.FromResult(obj is not null && TokenObjectFields.Str(obj, "kind") == kind && Meta.Name(obj) == n ? obj : null);
        var nodes = boundObject is not null && TokenObjectFields.Str(boundObject, "kind") == "Node" ? boundObject : podNode;
        var getters = new ServiceAccountObjectGetters(
            (_, n, _) => Task.FromResult(Meta.Name(serviceAccount) == n ? serviceAccount : null),
            Of(boundObject, "Pod"), Of(boundObject, "Secret"), Of(nodes, "Node"));
        return CreateAsync(ns, name, request, getters, ct);
    }

    private static async Task<TokenBinding> ResolveBindingAsync(string ns, string saName, JsonObject reference,
        ServiceAccountObjectGetters getters, CancellationToken ct)
    {
        var kind = TokenObjectFields.Str(reference, "kind");
        var refName = TokenObjectFields.Str(reference, "name");
        var refUid = TokenObjectFields.Str(reference, "uid");
        var (group, version) = ParseGroupVersion(TokenObjectFields.Str(reference, "apiVersion"));
        if (group.Length > 0 || kind is not ("Pod" or "Node" or "Secret"))
            throw ApiErrors.BadRequest($"cannot bind token to object of type {group}/{version}, Kind={kind}");
        // The registry refuses to get an object without a name.
        if (refName.Length == 0) throw ApiErrors.BadRequest("Name parameter required.");

        TokenBinding binding;
        string uid;
        switch (kind)
        {
            case "Pod":
            {
                var pod = await getters.Pods(ns, refName, ct) ?? throw ApiErrors.NotFound("pods", "", refName);
                var podView = new PodView(pod);
                if (podView.ServiceAccountName != saName)
                    throw ApiErrors.BadRequest($"cannot bind token for serviceaccount {Serialization.GoText.Quote(saName)} to pod running with different serviceaccount name.");
                uid = TokenObjectFields.Uid(pod);
                BoundObjectReference? node = null;
                var nodeName = podView.NodeName;
                if (nodeName.Length > 0)
                {
                    // A node that cannot be found still gets its name recorded.
                    var nodeObj = getters.Nodes is null ? null : await getters.Nodes("", nodeName, ct);
                    node = new BoundObjectReference(nodeName, nodeObj is null ? "" : TokenObjectFields.Uid(nodeObj));
                }
                binding = new TokenBinding(Pod: new BoundObjectReference(Meta.Name(pod), uid), Node: node);
                break;
            }
            case "Node":
            {
                var nodeObj = (getters.Nodes is null ? null : await getters.Nodes("", refName, ct)) ?? throw ApiErrors.NotFound("nodes", "", refName);
                uid = TokenObjectFields.Uid(nodeObj);
                binding = new TokenBinding(Node: new BoundObjectReference(Meta.Name(nodeObj), uid));
                break;
            }
            default:
            {
                var secret = await getters.Secrets(ns, refName, ct) ?? throw ApiErrors.NotFound("secrets", "", refName);
                uid = TokenObjectFields.Uid(secret);
                binding = new TokenBinding(Secret: new BoundObjectReference(Meta.Name(secret), uid));
                break;
            }
        }
        if (refUid.Length > 0 && refUid != uid)
            throw ApiErrors.Conflict(kind, group, refName,
                $"the UID in the bound object reference ({refUid}) does not match the UID in record. The object might have been deleted and then recreated");
        return binding;
    }

    /// <summary>schema.ParseGroupVersion, with upstream's fallback to the empty group on a malformed value.</summary>
    private static (string Group, string Version) ParseGroupVersion(string apiVersion)
    {
        if (apiVersion.Length == 0 || apiVersion == "/") return ("", "");
        var slashes = apiVersion.Count(c => c == '/');
        if (slashes == 0) return ("", apiVersion);
        if (slashes == 1) { var i = apiVersion.IndexOf('/'); return (apiVersion[..i], apiVersion[(i + 1)..]); }
        return ("", "");
    }

    private static List<string> ReadAudiences(JsonObject spec)
    {
        if (spec["audiences"] is not JsonArray a) return [];
        var list = new List<string>(a.Count);
        foreach (var item in a)
        {
            if (item is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
                throw ApiErrors.BadRequest("json: cannot unmarshal non-string into Go struct field TokenRequestSpec.spec.audiences of type string");
            list.Add(v.GetValue<string>());
        }
        return list;
    }

    private static long ReadExpiration(JsonObject spec)
    {
        var n = spec["expirationSeconds"];
        if (n is null) return DefaultExpirationSeconds; // SetDefaults_TokenRequestSpec
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l)) return l;
        if (n is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var f)
            && f == Math.Floor(f) && f >= long.MinValue && f <= long.MaxValue) return (long)f;
        throw ApiErrors.BadRequest("json: cannot unmarshal value into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64");
    }

    private static JsonObject Spec(List<string> audiences, long expirationSeconds, JsonObject? boundRef)
    {
        JsonObject? reference = null;
        if (boundRef is not null)
        {
            reference = new JsonObject();
            foreach (var f in new[] { "kind", "apiVersion", "name", "uid" })
                if (TokenObjectFields.Str(boundRef, f) is { Length: > 0 } s) reference[f] = s;
        }
        return new JsonObject
        {
            ["audiences"] = new JsonArray(audiences.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["expirationSeconds"] = expirationSeconds,
            ["boundObjectRef"] = reference,
        };
    }

    private static string Num(long n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
