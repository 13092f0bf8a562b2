using System.Text;
using CsCheck;
using Portcullis.Server.Authentication;
using Portcullis.Server.Authorization;
using Portcullis.Server.Authorization.Rbac;

namespace Portcullis.Analysis.Tests;

/// <summary>
/// Exactness of minimize: for random recorded request sets (written by the server's recorder and
/// read back), the minimized objects, put into the real authorizer chain's index one by one in
/// random order, allow every recorded request, and of random other requests exactly those implied
/// by the recorded ones: the same verb, group, resource and subresource, in the recorded namespace
/// or in any namespace when recorded without one (cluster-wide), with any name when one recorded
/// request named none, else with a recorded name; non-resource requests: the same verb and URL.
/// </summary>
public sealed class MinimizePropertyTests
{
    private static readonly string[] Users = ["u0", "u1", "system:serviceaccount:n0:sa0", "system:serviceaccount:n1:sa1", "system:serviceaccount:n0:sa1"];
    private static readonly string[] Verbs = ["get", "list", "watch", "create", "update", "delete", "patch"];
    private static readonly (string Group, string Resource)[] Resources = [("", "pods"), ("", "secrets"), ("apps", "deployments"), ("", "nodes"), ("", "namespaces")];
    private static readonly string[] Subresources = ["", "", "", "log", "scale", "status"];
    private static readonly string[] Namespaces = ["", "n0", "n1", "n2"];
    private static readonly string[] Names = ["", "", "a", "b", "c"];
    private static readonly string[] Urls = ["/healthz", "/api", "/apis/apps", "/version", "/metrics"];

    private sealed class Coverage { public int Recorded, Implied, NotImplied, NamedRules, ClusterRules; }

    [Fact]
    public void Minimized_AllowsExactlyTheRecordedAndImplied()
    {
        var coverage = new Coverage();
        Gen.Int.Sample(seed => Check(seed, coverage), iter: 300, threads: 1);
        Assert.True(coverage.Recorded > 1000, $"only {coverage.Recorded} recorded requests checked");
        Assert.True(coverage.Implied > 200, $"only {coverage.Implied} other requests implied");
        Assert.True(coverage.NotImplied > 1000, $"only {coverage.NotImplied} other requests not implied");
        Assert.True(coverage.NamedRules > 100, $"only {coverage.NamedRules} rules with resourceNames");
        Assert.True(coverage.ClusterRules > 100, $"only {coverage.ClusterRules} ClusterRoles");
    }

    private static WhoCanQuery RandomRequest(Random r)
    {
        if (r.Next(8) == 0) return new WhoCanQuery(Pick(r, ["get", "post"]), NonResourceUrl: Pick(r, Urls));
        var (group, resource) = Pick(r, Resources);
        return new WhoCanQuery(Pick(r, Verbs), resource, Pick(r, Subresources), group, Pick(r, Namespaces), Pick(r, Names));
    }

    private static T Pick<T>(Random r, IReadOnlyList<T> items) => items[r.Next(items.Count)];

    private static UserInfo Identity(string user) =>
        MinimizeSubject.Of(user).Kind == SubjectKinds.ServiceAccount
            ? new UserInfo(user, "", ["system:serviceaccounts", "system:serviceaccounts:" + MinimizeSubject.Of(user).Namespace, UserInfo.AllAuthenticated], UserInfo.NoExtra)
            : new UserInfo(user, "", [UserInfo.AllAuthenticated], UserInfo.NoExtra);

    private static void Check(int seed, Coverage coverage)
    {
        var r = new Random(seed);
        // The records, through the server's own recorder and read back.
        var stream = new MemoryStream();
        var recorder = new AccessRecorder(stream, capacity: 100_000);
        var recorded = new List<(string User, WhoCanQuery Request)>();
        for (var i = r.Next(1, 40); i > 0; i--)
        {
            var user = Pick(r, Users);
            var q = RandomRequest(r);
            recorded.Add((user, q));
            recorder.Record(q.Attributes(Identity(user)), AccessRecorder.ViaRbac);
        }
        recorder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var file = AccessRecordReader.Parse(Encoding.UTF8.GetString(stream.ToArray()));
        Assert.Equal(recorded.Distinct().Count(), file.Records.Count);

        var result = Minimizer.Minimize(file);
        var objects = result.Subjects.SelectMany(s => s.Objects).ToList();
        var model = AccessModel.Build(objects, bootstrap: false);
        var index = new RbacIndex();
        foreach (var (key, obj) in AccessModel.RbacObjectsOf(objects, bootstrap: false).OrderBy(_ => r.Next())) index.Apply(key, obj);
        var chain = new AuthorizerChain([new SystemMastersAuthorizer(), new RbacAuthorizer(index)]);
        coverage.NamedRules += objects.Sum(o => o["rules"]?.AsArray().Count(x => x!["resourceNames"] is not null) ?? 0);
        coverage.ClusterRules += objects.Count(o => o["kind"]!.GetValue<string>() == "ClusterRole");

        foreach (var (user, q) in recorded)
        {
            Assert.True(Allowed(chain, user, q), $"seed {seed}: recorded {q} of {user} is not allowed");
            coverage.Recorded++;
        }
        foreach (var user in Users.Append("stranger"))
        {
            var mine = recorded.Where(x => x.User == user).Select(x => x.Request).ToList();
            for (var i = 0; i < 30; i++)
            {
                var q = RandomRequest(r);
                var implied = Implied(mine, q);
                Assert.True(implied == Allowed(chain, user, q),
                    $"seed {seed}: {q} of {user}: {(implied ? "implied but denied" : "allowed but not implied")}");
                if (implied) coverage.Implied++;
                else coverage.NotImplied++;
            }
        }
    }

    private static bool Implied(List<WhoCanQuery> recorded, WhoCanQuery x) => recorded.Any(r =>
        r.Verb == x.Verb && (x.IsResourceRequest
            ? r.IsResourceRequest && r.ApiGroup == x.ApiGroup && r.Resource == x.Resource && r.Subresource == x.Subresource
              && (r.Namespace.Length == 0 || r.Namespace == x.Namespace)
              && (r.Name.Length == 0 || r.Name == x.Name)
            : !r.IsResourceRequest && r.NonResourceUrl == x.NonResourceUrl));

    private static bool Allowed(AuthorizerChain chain, string user, WhoCanQuery q) =>
        chain.AuthorizeAsync(q.Attributes(Identity(user))).AsTask().GetAwaiter().GetResult().Decision == Decision.Allow;
}
