using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>
/// Credentials for end-to-end tests: kubeconfigs holding one token or one client certificate,
/// curl as a bearer or certificate holder, and JWTs forged from a real token with the server's
/// own signing key (data dir sa.key), so each bad token differs from a good one in one way only.
/// </summary>
internal static class Credentials
{
    public static string Kubeconfig(ServerProcess s, string name, string userYaml)
    {
        var path = Path.Combine(s.DataDir, name + ".kubeconfig");
        var ca = Convert.ToBase64String(File.ReadAllBytes(s.CaFile));
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: portcullis
              cluster:
                server: {s.Url}
                certificate-authority-data: {ca}
            users:
            - name: {name}
              user:
            {userYaml}
            contexts:
            - name: {name}
              context:
                cluster: portcullis
                user: {name}
            current-context: {name}
            """);
        return path;
    }

    public static string TokenKubeconfig(ServerProcess s, string name, string token) =>
        Kubeconfig(s, name, $"    token: {token}");

    public static string CertKubeconfig(ServerProcess s, string name, string certPem, string keyPem) =>
        Kubeconfig(s, name, $"    client-certificate-data: {B64Std(certPem)}\n    client-key-data: {B64Std(keyPem)}");

    private static string B64Std(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    public static Task<CommandResult> KubectlWith(ServerProcess s, string kubeconfig, string binary, params string[] args) =>
        Tools.RunAsync(binary, args, env: new Dictionary<string, string> { ["KUBECONFIG"] = kubeconfig, ["HOME"] = Path.Combine(s.DataDir, "home") });

    /// <summary>curl with extra arguments (credentials), answering (status, body).</summary>
    public static async Task<(int Status, string Body)> Curl(ServerProcess s, string method, string path, string? body, params string[] creds)
    {
        var args = new List<string> { "--http1.1", "-s", "-X", method, "--cacert", s.CaFile, "-w", "\n%{http_code}" };
        args.AddRange(creds);
        if (body is not null) args.AddRange(["-H", "Content-Type: application/json", "--data-binary", "@-"]);
        args.Add(s.Url + path);
        var r = await Tools.RunAsync("curl", args, body);
        var cut = r.Stdout.LastIndexOf('\n');
        return (int.Parse(r.Stdout[(cut + 1)..]), r.Stdout[..cut]);
    }

    public const string SelfSubjectReview = """{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""";

    /// <summary>Who the server thinks the holder of these credentials is (POST selfsubjectreviews).</summary>
    public static Task<(int Status, string Body)> WhoAmI(ServerProcess s, params string[] creds) =>
        Curl(s, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", SelfSubjectReview, creds);

    /// <summary>The Authorization header from a file (curl -H @file): a token of any size fits no argv.</summary>
    public static string[] Bearer(ServerProcess s, string token)
    {
        var file = Path.Combine(s.DataDir, "header-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, "Authorization: Bearer " + token + "\n");
        return ["-H", "@" + file];
    }

    public static string B64Url(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    public static string B64Url(string s) => B64Url(Encoding.UTF8.GetBytes(s));

    public static byte[] UnB64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    public static JsonObject Header(string token) => JsonNode.Parse(UnB64Url(token.Split('.')[0]))!.AsObject();
    public static JsonObject Claims(string token) => JsonNode.Parse(UnB64Url(token.Split('.')[1]))!.AsObject();

    public static RSA ServerSigningKey(ServerProcess s)
    {
        var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(s.DataDir, "sa.key")));
        return key;
    }

    public static string SignRs256(string headerJson, string claimsJson, RSA key)
    {
        var input = B64Url(headerJson) + "." + B64Url(claimsJson);
        return input + "." + B64Url(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    /// <summary>A good token's claims, edited, re-signed with the server's key and the good token's header.</summary>
    public static string Resign(ServerProcess s, string token, Action<JsonObject> edit)
    {
        var claims = Claims(token);
        edit(claims);
        using var key = ServerSigningKey(s);
        return SignRs256(Header(token).ToJsonString(), claims.ToJsonString(), key);
    }
}
