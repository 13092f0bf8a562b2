using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>A kubeconfig or cluster that cannot be read; the message is one line.</summary>
public sealed class ClusterReadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// What an analysis needs from a kubeconfig to reach a cluster: the context's server, how to trust
/// it and how to authenticate. Read as client-go's clientcmd reads it for these fields: files
/// merged in order (<c>$KUBECONFIG</c> may list several; the first to set a name or
/// <c>current-context</c> wins), relative file paths resolved against the kubeconfig's directory.
/// Supported: <c>server</c>, <c>certificate-authority(-data)</c>, <c>insecure-skip-tls-verify</c>,
/// <c>tls-server-name</c>, <c>client-certificate(-data)</c> with <c>client-key(-data)</c>,
/// <c>token</c>, <c>tokenFile</c>. Not supported (one-line error): <c>exec</c> and
/// <c>auth-provider</c> plugins, basic auth, impersonation, proxies.
/// </summary>
public sealed record Kubeconfig(
    string ContextName,
    Uri Server,
    byte[]? CaPem,
    bool InsecureSkipTlsVerify,
    string? TlsServerName,
    byte[]? ClientCertPem,
    byte[]? ClientKeyPem,
    string? Token)
{
    /// <summary>The kubeconfig files kubectl would read: <c>$KUBECONFIG</c> (a path list) or <c>~/.kube/config</c>.</summary>
    public static IReadOnlyList<string> DefaultPaths()
    {
        var env = Environment.GetEnvironmentVariable("KUBECONFIG");
        if (!string.IsNullOrEmpty(env))
            return env.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        var home = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return [Path.Combine(home, ".kube", "config")];
    }

    /// <summary>Loads <paramref name="paths"/> (merged in order; a missing file among several is skipped as clientcmd does) for <paramref name="context"/> or the current context.</summary>
    /// <exception cref="ClusterReadException">no such file, no such context, or a setting that is not supported.</exception>
    public static Kubeconfig Load(IReadOnlyList<string> paths, string? context)
    {
        var contexts = new Dictionary<string, (JsonObject Entry, string Dir)>(StringComparer.Ordinal);
        var clusters = new Dictionary<string, (JsonObject Entry, string Dir)>(StringComparer.Ordinal);
        var users = new Dictionary<string, (JsonObject Entry, string Dir)>(StringComparer.Ordinal);
        string? current = null;
        var read = 0;
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                if (paths.Count == 1) throw new ClusterReadException($"{path}: no such file");
                continue;
            }
            read++;
            JsonNode? node;
            try { node = YamlCodec.ToJson(File.ReadAllBytes(path)); }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            { throw new ClusterReadException($"{path}: {e.Message.ReplaceLineEndings(" ")}", e); }
            if (node is null) continue;
            if (node is not JsonObject doc) throw new ClusterReadException($"{path}: not a kubeconfig");
            var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            Collect(doc, "contexts", "context", contexts, dir, path);
            Collect(doc, "clusters", "cluster", clusters, dir, path);
            Collect(doc, "users", "user", users, dir, path);
            current ??= JsonRead.StrOrEmpty(doc["current-context"]) is { Length: > 0 } c ? c : null;
        }
        if (read == 0) throw new ClusterReadException($"{string.Join(Path.PathSeparator, paths)}: no such file");

        var name = !string.IsNullOrEmpty(context) ? context : current
            ?? throw new ClusterReadException("the kubeconfig has no current-context; give --context");
        if (!contexts.TryGetValue(name, out var ctx)) throw new ClusterReadException($"context \"{name}\" does not exist in the kubeconfig");
        var clusterName = JsonRead.StrOrEmpty(ctx.Entry["cluster"]);
        if (!clusters.TryGetValue(clusterName, out var cluster)) throw new ClusterReadException($"context \"{name}\": cluster \"{clusterName}\" does not exist in the kubeconfig");
        var userName = JsonRead.StrOrEmpty(ctx.Entry["user"]);
        var user = users.TryGetValue(userName, out var u) ? u : (Entry: new JsonObject(), Dir: ".");

        var serverText = JsonRead.StrOrEmpty(cluster.Entry["server"]);
        if (serverText.Length == 0) throw new ClusterReadException($"cluster \"{clusterName}\" has no server");
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("https" or "http"))
            throw new ClusterReadException($"cluster \"{clusterName}\": server {serverText} is not an http(s) URL");
        if (JsonRead.StrOrEmpty(cluster.Entry["proxy-url"]).Length > 0) throw new ClusterReadException($"cluster \"{clusterName}\": proxy-url is not supported");

        var c0 = cluster.Entry;
        var u0 = user.Entry;
        if (u0["exec"] is JsonObject) throw new ClusterReadException($"user \"{userName}\": exec credential plugins are not supported (give a token or a client certificate)");
        if (u0["auth-provider"] is JsonObject) throw new ClusterReadException($"user \"{userName}\": auth-provider plugins are not supported (give a token or a client certificate)");
        if (JsonRead.StrOrEmpty(u0["username"]).Length > 0 || JsonRead.StrOrEmpty(u0["password"]).Length > 0) throw new ClusterReadException($"user \"{userName}\": basic authentication is not supported");
        if (JsonRead.StrOrEmpty(u0["as"]).Length > 0 || u0["as-groups"] is JsonArray) throw new ClusterReadException($"user \"{userName}\": impersonation (as, as-groups) is not supported");

        var ca = Bytes(c0, "certificate-authority-data", "certificate-authority", cluster.Dir, $"cluster \"{clusterName}\"");
        var cert = Bytes(u0, "client-certificate-data", "client-certificate", user.Dir, $"user \"{userName}\"");
        var key = Bytes(u0, "client-key-data", "client-key", user.Dir, $"user \"{userName}\"");
        if ((cert is null) != (key is null)) throw new ClusterReadException($"user \"{userName}\": a client certificate needs both the certificate and its key");
        var token = JsonRead.StrOrEmpty(u0["token"]);
        if (token.Length == 0 && JsonRead.StrOrEmpty(u0["tokenFile"]) is { Length: > 0 } tokenFile)
        {
            try { token = File.ReadAllText(Resolve(tokenFile, user.Dir)).Trim(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ClusterReadException($"user \"{userName}\": tokenFile: {e.Message}", e); }
        }
        return new Kubeconfig(name, server, ca, c0["insecure-skip-tls-verify"] is JsonValue v && v.TryGetValue<bool>(out var skip) && skip,
            JsonRead.StrOrEmpty(c0["tls-server-name"]) is { Length: > 0 } sni ? sni : null, cert, key, token.Length > 0 ? token : null);
    }

    private static void Collect(JsonObject doc, string list, string field, Dictionary<string, (JsonObject, string)> into, string dir, string path)
    {
        if (doc[list] is null) return;
        if (doc[list] is not JsonArray items) throw new ClusterReadException($"{path}: {list} is not a list");
        foreach (var item in items)
        {
            if (item is not JsonObject o || JsonRead.StrOrEmpty(o["name"]) is not { Length: > 0 } n) throw new ClusterReadException($"{path}: an entry of {list} without a name");
            into.TryAdd(n, (o[field] as JsonObject ?? new JsonObject(), dir));
        }
    }

    private static byte[]? Bytes(JsonObject o, string dataField, string fileField, string dir, string what)
    {
        if (JsonRead.StrOrEmpty(o[dataField]) is { Length: > 0 } data)
        {
            try { return Convert.FromBase64String(data); }
            catch (FormatException e) { throw new ClusterReadException($"{what}: {dataField} is not base64", e); }
        }
        if (JsonRead.StrOrEmpty(o[fileField]) is { Length: > 0 } file)
        {
            try { return File.ReadAllBytes(Resolve(file, dir)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ClusterReadException($"{what}: {fileField}: {e.Message}", e); }
        }
        return null;
    }

    private static string Resolve(string file, string dir)
    {
        if (file.StartsWith("~/", StringComparison.Ordinal))
            file = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), file[2..]);
        return Path.IsPathRooted(file) ? file : Path.Combine(dir, file);
    }


    /// <summary>An HTTP client for this cluster: its CA (or the system's), client certificate and bearer token.</summary>
    public HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = System.Net.DecompressionMethods.All };
        var ssl = new SslClientAuthenticationOptions();
        if (TlsServerName is not null) ssl.TargetHost = TlsServerName;
        if (InsecureSkipTlsVerify) ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        else if (CaPem is not null)
        {
            var roots = new X509Certificate2Collection();
            try { roots.ImportFromPem(Encoding.ASCII.GetString(CaPem)); }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException)
            { throw new ClusterReadException($"cluster of context \"{ContextName}\": the certificate authority is not PEM: {e.Message}", e); }
            if (roots.Count == 0) throw new ClusterReadException($"cluster of context \"{ContextName}\": the certificate authority holds no certificate");
            ssl.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }
        if (ClientCertPem is not null && ClientKeyPem is not null)
        {
            try
            {
                using var pem = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(ClientCertPem), Encoding.ASCII.GetString(ClientKeyPem));
                // An ephemeral PEM key cannot be handed to the TLS stack on every platform: go through PKCS#12.
                var cert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
                ssl.ClientCertificates = [cert];
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException)
            { throw new ClusterReadException($"user of context \"{ContextName}\": the client certificate and key cannot be read: {e.Message.ReplaceLineEndings(" ")}", e); }
        }
        handler.SslOptions = ssl;
        var client = new HttpClient(handler) { BaseAddress = Server, Timeout = TimeSpan.FromSeconds(60) };
        if (Token is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        client.DefaultRequestHeaders.UserAgent.ParseAdd("portcullis-access/v1alpha1");
        return client;
    }
}
