using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Portcullis.E2E.Tests;

/// <summary>A server with a static token file next to the generated PKI and service-account key.</summary>
public sealed class TokenFileFixture : IAsyncLifetime
{
    public const string BobToken = "bob-static-token-31d6cfe0d16ae931b73c59d7e0c089c0";
    public ServerProcess Server { get; } = new();

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(Server.DataDir);
        var file = Path.Combine(Server.DataDir, "tokens.csv");
        File.WriteAllText(file, $"{BobToken},bob,bob-uid,\"qa,ops\"\n");
        return Server.StartAsync("--token-auth-file", file);
    }

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();
}

/// <summary>
/// Who is calling, decided over real HTTP: `kubectl auth whoami` as a static-token user, a
/// service-account token and `--as` a service account; then a corpus of bad credentials over
/// curl, every one a 401 Unauthorized Status, never a 5xx, never anonymous.
/// </summary>
public sealed class AuthenticationTests(TokenFileFixture f) : IClassFixture<TokenFileFixture>
{
    private ServerProcess S => f.Server;

    private const string UnauthorizedStatus = """
        {
          "kind": "Status",
          "apiVersion": "v1",
          "metadata": {},
          "status": "Failure",
          "message": "Unauthorized",
          "reason": "Unauthorized",
          "code": 401
        }
        """;

    private async Task Kubectl(params string[] args)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, args);
        Assert.True(r.ExitCode == 0, $"kubectl {string.Join(' ', args)}: {r}");
    }

    private async Task<string> Token(string ns, string sa, params string[] extra)
    {
        var r = await Tools.Kubectl(S, Tools.Kubectl132, ["create", "token", sa, "-n", ns, .. extra]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r.Stdout.Trim();
    }

    [Theory]
    [InlineData("1.30")]
    [InlineData("1.32")]
    [InlineData("1.33")]
    public async Task Whoami_StaticTokenUser(string version)
    {
        var kc = Credentials.TokenKubeconfig(S, "bob", TokenFileFixture.BobToken);
        var r = await Credentials.KubectlWith(S, kc, Tools.KubectlVersion(version), "auth", "whoami");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("ATTRIBUTE   VALUE\nUsername    bob\nUID         bob-uid\nGroups      [qa ops system:authenticated]\n", r.Stdout);
    }

    [Fact]
    public async Task Whoami_ServiceAccountToken_AndAsAServiceAccount()
    {
        await Kubectl("create", "namespace", "who");
        await Kubectl("create", "serviceaccount", "robot", "-n", "who");
        var token = await Token("who", "robot");
        var kc = Credentials.TokenKubeconfig(S, "robot", token);
        var r = await Credentials.KubectlWith(S, kc, Tools.Kubectl132, "auth", "whoami", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        var info = JsonNode.Parse(r.Stdout)!["status"]!["userInfo"]!;
        Assert.Equal("system:serviceaccount:who:robot", (string?)info["username"]);
        Assert.Equal("[\"system:serviceaccounts\",\"system:serviceaccounts:who\",\"system:authenticated\"]", info["groups"]!.ToJsonString());
        Assert.NotNull(info["extra"]!["authentication.kubernetes.io/credential-id"]);

        var asSa = await Tools.Kubectl(S, Tools.Kubectl132, "auth", "whoami", "--as=system:serviceaccount:who:robot", "--as-group=system:serviceaccounts");
        Assert.True(asSa.ExitCode == 0, asSa.ToString());
        Assert.Equal("ATTRIBUTE   VALUE\nUsername    system:serviceaccount:who:robot\nGroups      [system:serviceaccounts system:authenticated]\n", asSa.Stdout);

        // bob may not impersonate: kubectl only says the review failed, curl shows upstream's 403.
        var bobKc = Credentials.TokenKubeconfig(S, "bob2", TokenFileFixture.BobToken);
        var denied = await Credentials.KubectlWith(S, bobKc, Tools.Kubectl132, "auth", "whoami", "--as=system:serviceaccount:who:robot");
        Assert.Equal(1, denied.ExitCode);
        var (code, body) = await Credentials.WhoAmI(S, [.. Credentials.Bearer(S, TokenFileFixture.BobToken), "-H", "Impersonate-User: system:serviceaccount:who:robot"]);
        Assert.Equal(403, code);
        Assert.Contains("\"message\": \"serviceaccounts \\\"robot\\\" is forbidden: User \\\"bob\\\" cannot impersonate resource \\\"serviceaccounts\\\" in API group \\\"\\\" in the namespace \\\"who\\\"\"", body);
    }

    /// <summary>
    /// Authorization headers that carry no bearer token (upstream's bearertoken authenticator answers "not mine"):
    /// an empty token, one of spaces, Basic credentials, an extra space before the token (with its warning).
    /// Anonymous (on by default) then takes the request, a 403 on a protected resource; with --anonymous-auth=false a 401.
    /// </summary>
    [Fact]
    public async Task AuthorizationWithoutABearerToken_IsAnonymous_Or401WhenAnonymousIsOff()
    {
        var headers = new Dictionary<string, string>
        {
            ["empty bearer token"] = "Authorization: Bearer ",
            ["bearer of spaces"] = "Authorization: Bearer      ",
            ["bearer alone"] = "Authorization: bearer",
            ["basic"] = "Authorization: Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("bob:secret")),
            ["extra space before the token"] = "Authorization: Bearer  " + TokenFileFixture.BobToken,
        };
        const string warning = "Warning: 299 - \"the provided Authorization header contains extra space before the bearer token, and is ignored\"";
        const string forbidden = """
            {
              "kind": "Status",
              "apiVersion": "v1",
              "metadata": {},
              "status": "Failure",
              "message": "pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"",
              "reason": "Forbidden",
              "details": {
                "kind": "pods"
              },
              "code": 403
            }
            """;
        await using var off = new ServerProcess();
        await off.StartAsync("--anonymous-auth=false");
        foreach (var (server, status, body) in new[] { (S, 403, forbidden), (off, 401, UnauthorizedStatus) })
        {
            foreach (var (what, header) in headers)
            {
                var file = Path.Combine(server.DataDir, "header-" + Guid.NewGuid().ToString("N"));
                var dump = file + ".response";
                File.WriteAllText(file, header + "\n");
                var (code, answer) = await Credentials.Curl(server, "GET", "/api/v1/namespaces/default/pods", null, "-H", "@" + file, "-D", dump);
                Assert.True(code == status, $"{what} ({status}): {code} {answer}");
                Assert.Equal(body, answer.TrimEnd('\n'));
                var warned = File.ReadAllLines(dump).Any(l => l.TrimEnd('\r').Equals(warning, StringComparison.OrdinalIgnoreCase));
                Assert.True(warned == what.StartsWith("extra space"), $"{what} ({status}) warning: {File.ReadAllText(dump)}");
            }
        }
        // A bearer token nobody recognises is still a failed login, never anonymous.
        Assert.Equal(401, (await Credentials.Curl(S, "GET", "/api/v1/namespaces/default/pods", null, Credentials.Bearer(S, "not-a-token"))).Status);
    }

    [Fact]
    public async Task BadCredentials_Are401Status_Never5xx_NeverAnonymous()
    {
        await Kubectl("create", "namespace", "bad");
        await Kubectl("create", "serviceaccount", "sa", "-n", "bad");
        await Kubectl("create", "serviceaccount", "gone", "-n", "bad");
        await Kubectl("create", "serviceaccount", "again", "-n", "bad");
        await Kubectl("run", "p1", "-n", "bad", "--image=busybox", "--overrides={\"spec\":{\"serviceAccountName\":\"sa\"}}");
        var good = await Token("bad", "sa");
        var goneToken = await Token("bad", "gone");
        var againToken = await Token("bad", "again");
        var podToken = await Token("bad", "sa", "--bound-object-kind=Pod", "--bound-object-name=p1");

        // Each good credential works before the bad ones are tried: the 401s below are about the one change.
        foreach (var t in new[] { good, goneToken, againToken, podToken })
            Assert.Equal(201, (await Credentials.WhoAmI(S, Credentials.Bearer(S, t))).Status);

        await Kubectl("delete", "serviceaccount", "gone", "-n", "bad");
        await Kubectl("delete", "serviceaccount", "again", "-n", "bad");
        await Kubectl("create", "serviceaccount", "again", "-n", "bad");
        await Kubectl("delete", "pod", "p1", "-n", "bad", "--grace-period=0", "--force");

        var header = Credentials.Header(good);
        var claims = Credentials.Claims(good);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string Unsigned(string alg) => Credentials.B64Url($"{{\"alg\":\"{alg}\",\"kid\":\"{header["kid"]}\"}}") + "." + Credentials.B64Url(claims.ToJsonString()) + ".";
        var publicPem = Encoding.ASCII.GetBytes(File.ReadAllText(Path.Combine(S.DataDir, "sa.pub")));
        var hsInput = Credentials.B64Url($"{{\"alg\":\"HS256\",\"kid\":\"{header["kid"]}\"}}") + "." + Credentials.B64Url(claims.ToJsonString());
        using var rsa = Credentials.ServerSigningKey(S);
        var parts = good.Split('.');
        var tamperedSig = parts[2].ToCharArray();
        tamperedSig[10] = tamperedSig[10] == 'A' ? 'B' : 'A';

        var tokens = new Dictionary<string, string>
        {
            ["alg none"] = Unsigned("none"),
            ["alg None"] = Unsigned("None"),
            ["alg NONE"] = Unsigned("NONE"),
            ["alg nOnE"] = Unsigned("nOnE"),
            ["alg none, no kid, no dot"] = Credentials.B64Url("{\"alg\":\"none\"}") + "." + Credentials.B64Url(claims.ToJsonString()),
            ["HS256 with the public key"] = hsInput + "." + Credentials.B64Url(HMACSHA256.HashData(publicPem, Encoding.ASCII.GetBytes(hsInput))),
            ["unknown kid"] = Credentials.SignRs256("{\"alg\":\"RS256\",\"kid\":\"not-a-key-we-have\"}", claims.ToJsonString(), rsa),
            ["wrong issuer"] = Credentials.Resign(S, good, c => c["iss"] = "https://evil.example.com"),
            ["wrong audience"] = Credentials.Resign(S, good, c => c["aud"] = new JsonArray("https://evil.example.com")),
            ["expired beyond leeway"] = Credentials.Resign(S, good, c => { c["exp"] = now - 61 - 5; c["iat"] = now - 3600; c["nbf"] = now - 3600; }),
            ["not yet valid beyond leeway"] = Credentials.Resign(S, good, c => { c["nbf"] = now + 120; c["iat"] = now + 120; }),
            ["tampered payload"] = parts[0] + "." + Credentials.B64Url(claims.ToJsonString().Replace("\"sa\"", "\"default\"")) + "." + parts[2],
            ["tampered signature"] = parts[0] + "." + parts[1] + "." + new string(tamperedSig),
            ["deleted service account"] = goneToken,
            ["service account recreated with the same name"] = againToken,
            ["deleted pod"] = podToken,
            ["truncated"] = good[..^12],
            ["truncated to two parts"] = parts[0] + "." + parts[1],
            // curl itself stalls sending a header much over 128 KiB; the server takes up to 1 MiB of headers (Go's default).
            ["oversized"] = good + new string('A', 100_000),
            ["garbage"] = "not-a-jwt",
        };
        foreach (var (what, token) in tokens)
        {
            var (status, body) = await Credentials.WhoAmI(S, Credentials.Bearer(S, token));
            Assert.True(status == 401, $"{what}: {status} {body}");
            Assert.Equal(UnauthorizedStatus, body);
            var (listStatus, _) = await Credentials.Curl(S, "GET", "/api/v1/namespaces/default/pods", null, Credentials.Bearer(S, token));
            Assert.True(listStatus == 401, $"{what} (GET): {listStatus}");
        }

        var dir = Path.Combine(S.DataDir, "badcerts");
        Directory.CreateDirectory(dir);
        var (foreignCert, foreignKey) = WriteClientCert(dir, "foreign", OtherCa(), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var ourCa = X509Certificate2.CreateFromPemFile(S.CaFile, Path.Combine(S.DataDir, "ca.key"));
        var (expiredCert, expiredKey) = WriteClientCert(dir, "expired", ourCa, DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(-1));
        var (validCert, validKey) = WriteClientCert(dir, "valid", ourCa, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(201, (await Credentials.WhoAmI(S, "--cert", validCert, "--key", validKey)).Status);
        foreach (var (what, cert, key) in new[] { ("certificate from another CA", foreignCert, foreignKey), ("expired certificate", expiredCert, expiredKey) })
        {
            var (status, body) = await Credentials.WhoAmI(S, "--cert", cert, "--key", key);
            Assert.True(status == 401, $"{what}: {status} {body}");
            Assert.Equal(UnauthorizedStatus, body);
        }
        // The server stayed healthy through all of it.
        Assert.Equal(200, (await Credentials.Curl(S, "GET", "/readyz", null)).Status);
    }

    /// <summary>
    /// TokenReview answers the audiences the token was accepted for: without spec.audiences, the API server's
    /// (its issuer, --api-audiences unset), as upstream's tokenreview storage; static tokens are audience agnostic.
    /// </summary>
    [Fact]
    public async Task TokenReview_WithoutAudiences_AnswersTheApiAudiences()
    {
        await Kubectl("create", "namespace", "tr");
        await Kubectl("create", "serviceaccount", "robot", "-n", "tr");
        var token = await Token("tr", "robot");
        var issuer = (string)Credentials.Claims(token)["iss"]!;
        Assert.Equal("https://kubernetes.default.svc.cluster.local", issuer);
        string[] admin = ["--cert", S.AdminCert, "--key", S.AdminKey];
        async Task<JsonNode> Review(string t, string? audiences)
        {
            var spec = new JsonObject { ["token"] = t };
            if (audiences is not null) spec["audiences"] = JsonNode.Parse(audiences);
            var body = new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenReview", ["spec"] = spec };
            var (status, answer) = await Credentials.Curl(S, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", body.ToJsonString(), admin);
            Assert.True(status == 201, $"{status} {answer}");
            return JsonNode.Parse(answer)!["status"]!;
        }

        var plain = await Review(token, null);
        Assert.True((bool)plain["authenticated"]!);
        Assert.Equal("system:serviceaccount:tr:robot", (string?)plain["user"]!["username"]);
        Assert.Equal($"[\"{issuer}\"]", plain["audiences"]!.ToJsonString());
        Assert.Equal($"[\"{issuer}\"]", (await Review(token, $"[\"vault\",\"{issuer}\"]"))["audiences"]!.ToJsonString());
        var vault = await Review(token, "[\"vault\"]");
        Assert.Null(vault["authenticated"]);
        Assert.Null(vault["audiences"]);

        var bob = await Review(TokenFileFixture.BobToken, null);
        Assert.True((bool)bob["authenticated"]!);
        Assert.Equal($"[\"{issuer}\"]", bob["audiences"]!.ToJsonString());
        Assert.Null((await Review(TokenFileFixture.BobToken, "[\"vault\"]"))["authenticated"]);

        var (code, empty) = await Credentials.Curl(S, "POST", "/apis/authentication.k8s.io/v1/tokenreviews",
            """{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{}}""", admin);
        Assert.Equal(400, code);
        Assert.Contains("\"message\": \"token is required for TokenReview in authentication\"", empty);
    }

    private static X509Certificate2 OtherCa()
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=other-ca", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.DigitalSignature, true));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-3), DateTimeOffset.UtcNow.AddDays(30));
    }

    /// <summary>A client certificate for CN=mallory, O=system:masters signed by <paramref name="ca"/>, written as PEM files.</summary>
    private static (string Cert, string Key) WriteClientCert(string dir, string name, X509Certificate2 ca, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest("CN=mallory, O=system:masters", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        // Signed with the CA's key directly: .NET's Create(issuer, …) refuses dates outside the CA's own, which the expired case needs.
        var caKey = ca.GetECDsaPrivateKey()!;
        using var cert = req.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), notBefore, notAfter, serial);
        var certPath = Path.Combine(dir, name + ".crt");
        var keyPath = Path.Combine(dir, name + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem() + "\n");
        File.WriteAllText(keyPath, key.ExportECPrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }
}
