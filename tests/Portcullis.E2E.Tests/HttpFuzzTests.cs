using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Fuzzing;
using Portcullis.Server.Api.Resources;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Fuzzes the running server over HTTPS as a client would reach it: random methods on the
/// served paths (collections, objects, subresources, review APIs, odd paths), hostile bodies
/// in every media type (mutated from real requests), patches of the three types, edge values
/// in every query parameter and odd headers. Asserts: never a 5xx, every refusal is a Status
/// with the same code, no request hangs, the server stays ready, and its memory stays bounded.
/// Deterministic for a given <c>PORTCULLIS_FUZZ_SEED</c> (default 1); <c>PORTCULLIS_FUZZ_ITER</c>
/// requests (default 3000); <c>scripts/fuzz.sh</c> runs it longer with fresh seeds.
/// </summary>
public sealed class HttpFuzzTests
{
    private static readonly int Iter = int.TryParse(Environment.GetEnvironmentVariable("PORTCULLIS_FUZZ_ITER"), out var n) ? n : 3000;
    private static readonly int SeedValue = int.TryParse(Environment.GetEnvironmentVariable("PORTCULLIS_FUZZ_SEED"), out var s) ? s : 1;

    /// <summary>The server's memory may grow with what it stores, but never by gigabytes.</summary>
    private const long MaxRssBytes = 1L << 30;

    private static readonly string CorpusDir = Path.Combine(AppContext.BaseDirectory, "TestData", "fuzz-corpus");

    private static readonly string[] MediaTypes =
    [
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "application/json-patch+json",
        "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml",
        "text/plain", "application/json; charset=utf-16", "", "*/*", "application/json;;", "multipart/form-data; boundary=x",
    ];

    private static readonly string[] Accepts =
    [
        "application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
        "application/json;as=Table;v=v1;g=meta.k8s.io", "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io", "application/json;as=Table;v=v1beta1;g=meta.k8s.io",
        "application/json;as=Bogus;v=v1;g=meta.k8s.io", "application/vnd.kubernetes.protobuf;stream=watch", "text/html", "*/*", "", ";;;",
        "application/json;q=0.x", "application/json;as=APIGroupDiscoveryList;v=v2;g=apidiscovery.k8s.io",
    ];

    private static readonly (string Name, string[] Values)[] Queries =
    [
        ("watch", ["1", "true", "false", "x", ""]),
        ("timeoutSeconds", ["1", "0", "-1", "2147483647", "9223372036854775808", "x", "1.5"]),
        ("resourceVersion", ["0", "1", "", "-1", "x", "99999999999999999999", "18446744073709551615"]),
        ("resourceVersionMatch", ["Exact", "NotOlderThan", "x", ""]),
        ("limit", ["0", "1", "-1", "500", "x", "9223372036854775808"]),
        ("continue", ["x", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJ4In0", "%00", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiXHUwMDAwIn0"]),
        ("labelSelector", ["a=b", "a in (b,c)", "!a", "a=", "=", "a==b,c!=d", "(", "a in (", "x/y/z=1", new string('a', 300) + "=b"]),
        ("fieldSelector", ["metadata.name=x", "spec.nodeName=", "bogus=1", "metadata.name==x", "=", "status.phase!=Running"]),
        ("gracePeriodSeconds", ["0", "-1", "30", "99999999999999999999", "9223372036854775807", "x"]),
        ("propagationPolicy", ["Foreground", "Background", "Orphan", "x"]),
        ("orphanDependents", ["true", "false", "x"]),
        ("dryRun", ["All", "x", ""]),
        ("fieldManager", ["m", "", new string('m', 200), "a\u0001b"]),
        ("fieldValidation", ["Strict", "Warn", "Ignore", "x"]),
        ("pretty", ["true", "1", "x"]),
        ("allowWatchBookmarks", ["true", "x"]),
        ("sendInitialEvents", ["true", "false", "x"]),
        ("force", ["true", "x"]),
        ("includeObject", ["None", "Metadata", "Object", "x"]),
        ("follow", ["false"]), ("tailLines", ["1", "-1", "x", "9223372036854775808"]),
        ("limitBytes", ["1", "-1", "0", "x"]), ("sinceSeconds", ["1", "-1", "0", "x"]),
        ("sinceTime", ["2024-01-01T00:00:00Z", "x"]), ("container", ["web", "x", ""]),
        ("bogus", ["1"]),
    ];

    private static readonly (string Name, string Value)[] OddHeaders =
    [
        ("Impersonate-User", "system:admin"), ("Impersonate-Group", "system:masters"), ("Impersonate-Uid", "x"),
        ("Impersonate-Extra-%ZZ", "x"), ("Impersonate-Extra-scopes", "a"), ("Content-Encoding", "gzip"),
        ("Accept-Encoding", "gzip"), ("Transfer-Encoding", "chunked"), ("Expect", "100-continue"),
        ("X-Remote-User", "admin"), ("Authorization", "Bearer x"), ("Authorization", "Basic Og=="),
        ("Sec-WebSocket-Protocol", "v5.channel.k8s.io"), ("Upgrade", "SPDY/3.1"), ("Connection", "Upgrade"),
        ("Audit-Id", "x"), ("User-Agent", new string('u', 4000)),
    ];

    private sealed record Seed(string Kind, byte[] Json);

    [Fact]
    public async Task Random_requests_never_reach_a_server_error()
    {
        await using var server = new ServerProcess();
        await server.StartAsync();
        using var http = new HttpClient(Handler(server)) { BaseAddress = new Uri(server.Url), Timeout = Timeout.InfiniteTimeSpan };

        var seeds = Directory.GetFiles(CorpusDir, "*.json").Order(StringComparer.Ordinal)
            .Select(f => new Seed(Path.GetFileName(f).Split('.')[0], File.ReadAllBytes(f)))
            .Where(x => BuiltinResources.All.Any(d => d.Kind == x.Kind)).ToArray();
        var defs = BuiltinResources.All.Where(d => seeds.Any(x => x.Kind == d.Kind)).ToArray();
        Assert.NotEmpty(defs);

        // Objects for updates, patches and deletes to find: every seed created in namespace fuzz.
        await Send(http, HttpMethod.Post, "/api/v1/namespaces", "application/json",
            Encoding.UTF8.GetBytes("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"fuzz"}}"""), "application/json");
        foreach (var seed in seeds)
        {
            var def = defs.First(d => d.Kind == seed.Kind);
            var obj = JsonNode.Parse(seed.Json)!.AsObject();
            obj["metadata"]!.AsObject().Remove("namespace");
            await Send(http, HttpMethod.Post, CollectionPath(def), "application/json", Encoding.UTF8.GetBytes(obj.ToJsonString()), "application/json");
        }

        var r = new Random(SeedValue);
        var failures = new List<string>();
        var previous = "";
        for (var i = 0; i < Iter && failures.Count < 20; i++)
        {
            var seed = seeds[r.Next(seeds.Length)];
            var def = defs.First(d => d.Kind == seed.Kind);
            var name = (string)JsonNode.Parse(seed.Json)!["metadata"]!["name"]!;
            var (method, path) = Target(r, def, name);
            var query = new List<string>();
            for (var q = r.Next(4); q > 0; q--)
            {
                var (qn, values) = Queries[r.Next(Queries.Length)];
                query.Add(Uri.EscapeDataString(qn) + "=" + Uri.EscapeDataString(values[r.Next(values.Length)]));
            }
            var watch = query.Any(x => x.StartsWith("watch=1", StringComparison.Ordinal) || x.StartsWith("watch=true", StringComparison.Ordinal)) || path.Contains("/watch/")
                || (path.EndsWith("/log", StringComparison.Ordinal) && query.Contains("follow=true"));
            var url = path + (query.Count > 0 ? "?" + string.Join("&", query) : "");
            var mediaType = MediaTypes[r.Next(MediaTypes.Length)];
            byte[]? body = method == HttpMethod.Get || r.Next(10) == 0 ? null : BodyMutator.Mutate(seed.Json, r, 1 + r.Next(4), json: true);
            if (mediaType == "application/yaml" && body is not null && r.Next(2) == 0) body = YamlOf(body);
            if (r.Next(40) == 0) body = Encoding.UTF8.GetBytes(BodyMutator.AliasBomb(seed.Kind, def.GroupVersion));
            var accept = Accepts[r.Next(Accepts.Length)];
            var headers = r.Next(5) == 0 ? new[] { OddHeaders[r.Next(OddHeaders.Length)] } : [];

            var problem = await Check(http, method, url, mediaType, body, accept, headers, watch);
            var described = $"#{i} {method} {url}\n  Content-Type: {mediaType}\n  Accept: {accept}\n  {string.Join("\n  ", headers.Select(h => h.Name + ": " + h.Value))}\n  body: {(body is null ? "(none)" : BodyMutator.Printable(body))}";
            // The request before may matter too (the same connection, the same objects).
            if (problem is not null) failures.Add($"{described}\n  => {problem}\n  after: {previous}");
            previous = described;
        }

        var ready = await http.GetAsync("/readyz");
        var rss = Rss(server.Pid);
        Assert.True(failures.Count == 0, $"seed {SeedValue}: {failures.Count} bad answers\n" + string.Join("\n\n", failures) + "\n\nserver log tail:\n" + Tail(server.Log));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True(rss < MaxRssBytes, $"server RSS {rss >> 20} MiB after {Iter} requests");
    }

    private static (HttpMethod, string) Target(Random r, ResourceDefinition def, string name)
    {
        var coll = CollectionPath(def);
        var obj = coll + "/" + (r.Next(10) == 0 ? "missing" : name);
        var sub = def.Subresources.Length > 0 && r.Next(4) == 0 ? "/" + def.Subresources[r.Next(def.Subresources.Length)] : "";
        if (sub is "/exec" or "/attach") sub = "";
        string[] odd =
        [
            "/api/v1/namespaces/fuzz/configmaps/%00", "/api/v1/namespaces/%00/pods", "/api/v1/namespaces/fuzz/pods/web/%2e%2e/x",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/fuzz/roles/" + new string('r', 300), "/api/v1/namespaces/fuzz/pods/web/status/x",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            "/apis/authorization.k8s.io/v1/subjectaccessreviews", "/apis/authentication.k8s.io/v1/tokenreviews",
            "/api/v1/namespaces/fuzz/serviceaccounts/default/token", "/api/v1/namespaces/fuzz/pods/web/binding",
            "/apis/apps/v1/namespaces/fuzz/deployments/d1/scale", "/api/v1/watch/namespaces/fuzz/configmaps", "/openapi/v3/api/v1",
            "/openapi/v2", "/apis", "/api", "/version", "/livez", "/x/" + new string('y', 5000), "/api/v1/namespaces/fuzz/pods/web/log",
            "/api/v1/nodes/portcullis-node/status", "/api/v1/namespaces/fuzz/finalize", "/api/v1/namespaces/fuzz",
        ];
        var method = r.Next(6) switch
        {
            0 => HttpMethod.Get, 1 => HttpMethod.Post, 2 => HttpMethod.Put, 3 => HttpMethod.Patch, 4 => HttpMethod.Delete,
            _ => new[] { HttpMethod.Head, HttpMethod.Options, new HttpMethod("PROPFIND") }[r.Next(3)],
        };
        return r.Next(8) switch
        {
            0 => (method, odd[r.Next(odd.Length)]),
            1 or 2 => (method, coll),
            _ => (method, obj + sub),
        };
    }

    private static string CollectionPath(ResourceDefinition def)
    {
        var root = def.Group.Length == 0 ? "/api/v1" : $"/apis/{def.Group}/{def.Version}";
        return def.Namespaced ? $"{root}/namespaces/fuzz/{def.Plural}" : $"{root}/{def.Plural}";
    }

    private static byte[] YamlOf(byte[] json)
    {
        try { return Encoding.UTF8.GetBytes(Portcullis.Server.Serialization.YamlCodec.ToYaml(JsonNode.Parse(json))); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or ArgumentException) { return json; }
    }

    /// <summary>Sends one request; null when the answer is acceptable, else what is wrong with it.</summary>
    private static async Task<string?> Check(HttpClient http, HttpMethod method, string url, string mediaType, byte[]? body,
        string accept, (string Name, string Value)[] headers, bool watch)
    {
        using var req = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            req.Content = new ByteArrayContent(body);
            if (mediaType.Length > 0 && MediaTypeHeaderValue.TryParse(mediaType, out _)) req.Content.Headers.TryAddWithoutValidation("Content-Type", mediaType);
        }
        if (accept.Length > 0) req.Headers.TryAddWithoutValidation("Accept", accept);
        foreach (var (h, v) in headers)
            if (!req.Headers.TryAddWithoutValidation(h, v)) req.Content?.Headers.TryAddWithoutValidation(h, v);

        // A request that is not a watch must be answered; 60 s is a hang, not slowness.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        HttpResponseMessage resp;
        try { resp = await http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, cts.Token); }
        catch (OperationCanceledException) { return "no answer within 60 s"; }
        // A header that breaks HTTP framing may end the connection; the server must just survive it.
        catch (HttpRequestException) when (headers.Any(h => h.Name is "Transfer-Encoding" or "Expect" or "Content-Encoding" or "Connection" or "Upgrade"))
        {
            return null;
        }
        catch (HttpRequestException e) { return "connection failed: " + e.Message; }
        using (resp)
        {
            var code = (int)resp.StatusCode;
            if (code >= 500) return $"{code}: {Short(await ReadSome(resp, CancellationToken.None))}";
            if (watch && code == 200) return null; // a stream: its headers are the answer; dispose ends it
            string text;
            try { text = await ReadSome(resp, cts.Token); }
            catch (OperationCanceledException) { return code == 200 ? null : $"{code} body never ended"; }
            if (code >= 400 && method != HttpMethod.Head && resp.Content.Headers.ContentType?.MediaType == "application/json")
            {
                JsonNode? status;
                try { status = JsonNode.Parse(text); }
                catch (System.Text.Json.JsonException) { return $"{code} with a body that is not JSON: {Short(text)}"; }
                if ((string?)status?["kind"] != "Status") return $"{code} without a Status: {Short(text)}";
                if ((int?)status["code"] != code) return $"{code} but the Status says {status["code"]}: {Short(text)}";
            }
            return null;
        }
    }

    private static async Task<string> ReadSome(HttpResponseMessage resp, CancellationToken ct) =>
        Encoding.UTF8.GetString(await resp.Content.ReadAsByteArrayAsync(ct));

    private static string Short(string s) => s.Length > 1000 ? s[..1000] + "…" : s;

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    private static string Tail(string log) => log.Length > 4000 ? log[^4000..] : log;

    private static HttpClientHandler Handler(ServerProcess s)
    {
        var h = new HttpClientHandler { AllowAutoRedirect = false };
        h.ClientCertificates.Add(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(s.AdminCert, s.AdminKey));
        h.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
        return h;
    }

    private static Task Send(HttpClient http, HttpMethod m, string url, string ct, byte[] body, string accept) =>
        Check(http, m, url, ct, body, accept, [], false);
}
