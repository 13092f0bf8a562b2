using System.CommandLine;
using Portcullis.Analysis;

namespace Portcullis;

internal static partial class AccessCommand
{
    /// <summary>The identity options both explain and matrix take.</summary>
    private sealed class IdentityOptions
    {
        public Option<string?> As { get; } = new("--as")
        { Description = "The user asking (system:serviceaccount:NS:NAME for a ServiceAccount, which gets the groups its token gives)." };

        public Option<string[]> Groups { get; } = new("--as-group") { Description = "A group of the user; repeatable (system:authenticated is always added)." };

        public void AddTo(Command c)
        {
            c.Options.Add(As);
            c.Options.Add(Groups);
        }

        public AccessIdentity Get(ParseResult result, string? user = null) =>
            AccessIdentity.For(result.GetValue(As) ?? user ?? "", result.GetValue(Groups) ?? []);
    }

    private static Command Explain()
    {
        var verb = new Argument<string?>("VERB") { Description = "The verb of the request.", Arity = ArgumentArity.ZeroOrOne };
        var target = new Argument<string?>("RESOURCE")
        {
            Description = "RESOURCE[/SUBRESOURCE] (RESOURCE may be resource.group), or a non-resource URL starting with /.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var identity = new IdentityOptions();
        var inputs = new AccessInputs();
        var ns = new Option<string?>("--namespace", "-n") { Description = "The namespace of the request; without it the request is cluster-wide." };
        var name = new Option<string?>("--name") { Description = "The resource name of the request." };
        var apiGroup = new Option<string?>("--api-group") { Description = "The API group of the resource (default: the core group)." };
        var fromLog = new Option<string?>("--from-log")
        { Description = "A 403 message as kube-apiserver writes it (User \"u\" cannot VERB resource ...); gives the user and the request." };
        var output = new Option<string>("--output", "-o") { Description = "Output format: text or json.", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var cmd = new Command("explain", "Explain why a request is denied (or what allows it): the subject's bindings, the nearest rules, the smallest grant and who can give it.")
        {
            verb, target, ns, name, apiGroup, fromLog, output,
        };
        identity.AddTo(cmd);
        inputs.AddTo(cmd);
        cmd.SetAction(result =>
        {
            try
            {
                WhoCanQuery query;
                AccessIdentity who;
                if (result.GetValue(fromLog) is { } log)
                {
                    if (result.GetValue(verb) is not null || result.GetValue(ns) is not null || result.GetValue(name) is not null || result.GetValue(apiGroup) is not null)
                        throw new ArgumentException("--from-log gives the request: no VERB, RESOURCE, --namespace, --name or --api-group with it");
                    var (user, q) = ForbiddenMessage.Parse(log);
                    query = q;
                    who = identity.Get(result, user);
                }
                else
                {
                    if (result.GetValue(verb) is null || result.GetValue(target) is null) throw new ArgumentException("give VERB RESOURCE, or --from-log TEXT");
                    if (result.GetValue(identity.As) is null) throw new ArgumentException("give the user with --as USER");
                    query = WhoCanQuery.Parse(result.GetValue(verb)!, result.GetValue(target)!, result.GetValue(ns), result.GetValue(name), result.GetValue(apiGroup));
                    who = identity.Get(result);
                }
                var model = inputs.Load(result);
                var answer = Explainer.Explain(model, who, query);
                Console.Out.Write(result.GetValue(output) == "json" ? ExplainOutput.Json(answer) : ExplainOutput.Text(answer));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or ManifestException)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return cmd;
    }
}
