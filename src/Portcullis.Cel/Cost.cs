namespace Portcullis.Cel;

/// <summary>How an evaluation counts its runtime ("actual") cost, as cel-go v0.23.2's
/// <c>interpreter/runtimecost.go</c> does.</summary>
public sealed class CelCostOptions
{
    /// <summary>Stop with "operation cancelled: actual cost limit exceeded" once the cost passes this.</summary>
    public ulong? Limit { get; init; }

    /// <summary>cel-go's <c>PresenceTestHasCost</c>: whether <c>has()</c> costs one (cel-go's default) or zero
    /// (what Kubernetes configures).</summary>
    public bool PresenceTestHasCost { get; init; } = true;

    /// <summary>cel-go's <c>OptOptimize</c> (Kubernetes evaluates with it): list and map literals of constants
    /// are built once and cost nothing, and <c>x in [constants]</c> costs only <c>x</c>.</summary>
    public bool Optimize { get; init; }

    /// <summary>An <c>ActualCostEstimator</c>: (function, args (receiver first), result) → cost, or null to use
    /// cel-go's standard costs.</summary>
    public Func<string, IReadOnlyList<CelValue>, CelValue, ulong?>? CallCost { get; init; }

    /// <summary>What kube-apiserver 1.33 uses (apiserver pkg/cel/environment/base.go): optimised evaluation, has()
    /// free, the Kubernetes library cost estimator, and the given per-call limit.</summary>
    public static CelCostOptions Kubernetes(ulong? limit = null) => new()
    {
        Limit = limit,
        PresenceTestHasCost = false,
        Optimize = true,
        CallCost = KubernetesCost.CallCost,
    };
}

/// <summary>A value with the actual cost of computing it; <see cref="LimitExceeded"/> when the limit stopped it
/// (then <see cref="Value"/> is the cancellation error).</summary>
public readonly record struct CelEvalResult(CelValue Value, ulong Cost, bool LimitExceeded);

/// <summary>Constants of cel-go <c>common/cost.go</c>.</summary>
public static class CelCost
{
    public const ulong SelectAndIdentCost = 1;
    public const ulong ConstCost = 0;
    public const ulong ListCreateBaseCost = 10;
    public const ulong MapCreateBaseCost = 30;
    public const ulong StructCreateBaseCost = 40;
    public const double StringTraversalCostFactor = 0.1;
    public const double RegexStringLengthCostFactor = 0.25;
    public const string LimitExceededMessage = "operation cancelled: actual cost limit exceeded";

    /// <summary>cel-go <c>actualSize</c>: the size of strings (code points), bytes, lists and maps, an optional's
    /// value, and 1 for anything else.</summary>
    public static ulong ActualSize(CelValue v) => v switch
    {
        CelString s => (ulong)CodePoints(s.Value),
        CelBytes b => (ulong)b.Value.Length,
        CelList l => (ulong)l.Items.Count,
        CelMap m => (ulong)m.Count,
        CelOptional { HasValue: true } o => ActualSize(o.Value!),
        _ => 1,
    };

    internal static int CodePoints(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            n++;
        }
        return n;
    }

    internal static ulong Ceil(double d) => (ulong)Math.Ceiling(d);

    /// <summary>cel-go's standard cost of one call (CostTracker.costCall after the estimator declined).</summary>
    internal static ulong StandardCallCost(string fn, bool receiver, CelValue[] args)
    {
        static bool Str(CelValue v) => v is CelString;
        static bool StrOrBytes(CelValue a, CelValue b) => (a is CelString && b is CelString) || (a is CelBytes && b is CelBytes);
        switch (fn)
        {
            case "startsWith" or "endsWith" when receiver && args.Length == 2 && Str(args[0]):
            case "bytes" when !receiver && args.Length == 1 && args[0] is CelString:
            case "string" when !receiver && args.Length == 1 && args[0] is CelBytes:
            case "strings.quote" when args.Length == 1 && Str(args[0]):
            case "format" when receiver && args.Length == 2 && Str(args[0]):
                return Ceil(ActualSize(args[0]) * StringTraversalCostFactor);
            case "@in" when args.Length == 2 && args[1] is CelList:
                return ActualSize(args[1]);
            case "_<_" or "_>_" or "_<=_" or "_>=_" when args.Length == 2 && StrOrBytes(args[0], args[1]):
            case "_==_" or "_!=_" when args.Length == 2:
                return Ceil(Math.Min(ActualSize(args[0]), ActualSize(args[1])) * StringTraversalCostFactor);
            case "_+_" when args.Length == 2 && StrOrBytes(args[0], args[1]):
                return Ceil((ActualSize(args[0]) + ActualSize(args[1])) * StringTraversalCostFactor);
            case "matches" when receiver && args.Length == 2 && Str(args[0]):
            {
                // only the receiver overload (matches_string) is costed by cel-go; global matches() costs 1
                ulong str = Ceil((1.0 + ActualSize(args[0])) * StringTraversalCostFactor);
                ulong re = Ceil(ActualSize(args[1]) * RegexStringLengthCostFactor);
                return str * re;
            }
            case "contains" when receiver && args.Length == 2 && Str(args[0]) && Str(args[1]):
                return Ceil(ActualSize(args[0]) * StringTraversalCostFactor) * Ceil(ActualSize(args[1]) * StringTraversalCostFactor);
            default:
                return 1;
        }
    }
}

/// <summary>The running total of one evaluation.</summary>
internal sealed class CostTracker(CelCostOptions options)
{
    public readonly CelCostOptions Options = options;
    public ulong Cost;
    int _muted;

    public void Add(ulong c)
    {
        if (_muted > 0 || c == 0) return;
        Cost += c;
        if (Options.Limit is { } l && Cost > l) throw new CostLimitExceededException();
    }

    public void Mute() => _muted++;
    public void Unmute() => _muted--;

    public ulong CallCost(string fn, bool receiver, CelValue[] args, CelValue result)
    {
        // cel-go ext/sets.go registers overload trackers, which come before any estimator:
        // 1 + |a|·|b| (contains, intersects), 1 + 2·|a|·|b| (equivalent)
        if (fn is "sets.contains" or "sets.intersects" or "sets.equivalent" && !receiver && args.Length == 2
            && args[0] is CelList && args[1] is CelList)
            return 1 + (ulong)((double)(CelCost.ActualSize(args[0]) * CelCost.ActualSize(args[1])) * (fn == "sets.equivalent" ? 2 : 1));
        if (Options.CallCost?.Invoke(fn, args, result) is { } c) return c;
        return CelCost.StandardCallCost(fn, receiver, args);
    }
}

internal sealed class CostLimitExceededException() : Exception(CelCost.LimitExceededMessage);

/// <summary>k8s.io/apiserver pkg/cel/library/cost.go (kubernetes-1.33.0), <c>CostEstimator.CallCost</c>.</summary>
public static class KubernetesCost
{
    public static ulong? CallCost(string function, IReadOnlyList<CelValue> args, CelValue result)
    {
        ulong Size(int i) => CelCost.ActualSize(args[i]);
        ulong Trav(int i, double f = 1) => CelCost.Ceil(Size(i) * f * CelCost.StringTraversalCostFactor);
        switch (function)
        {
            case "check": return 350000;
            case "serviceAccount" or "path" or "group" or "resource" or "subresource" or "namespace" or "name"
                or "allowed" or "reason" or "error" or "errored":
                return 1;
            case "fieldSelector" or "labelSelector" when args.Count >= 2:
            {
                double len = Size(1);
                // base ListCreateBaseCost + len*0.1 + len*0.5*(List+Struct create), each factor rounded up
                ulong parse = CelCost.Ceil(len * CelCost.StringTraversalCostFactor);
                ulong reqCount = CelCost.Ceil(len * 0.5);
                ulong reqCost = CelCost.Ceil(reqCount * (double)(CelCost.ListCreateBaseCost + CelCost.StructCreateBaseCost));
                return CelCost.ListCreateBaseCost + parse + reqCost;
            }
            case "isSorted" or "sum" or "max" or "min" or "indexOf" or "lastIndexOf":
                return args.Count > 0 ? TraversalCost(args[0]) : 0;
            case "url" or "lowerAscii" or "upperAscii" or "substring" or "trim" or "jsonpatch.escapeKey" when args.Count >= 1:
                return Trav(0);
            case "replace" or "split" when args.Count >= 1:
                return Trav(0, 2);
            case "join" when args.Count >= 1:
                return CelCost.Ceil(CelCost.ActualSize(result) * 2 * CelCost.StringTraversalCostFactor);
            case "find" or "findAll" when args.Count >= 2:
            {
                ulong str = CelCost.Ceil((1.0 + Size(0)) * CelCost.StringTraversalCostFactor);
                ulong re = CelCost.Ceil(Size(1) * CelCost.RegexStringLengthCostFactor);
                return str * re;
            }
            case "cidr" or "isIP" or "isCIDR" when args.Count >= 1:
                return Trav(0);
            case "ip" when args.Count >= 1:
                return args[0] is CelCIDR ? 1 : Trav(0); // overload cidr_ip costs 1
            case "ip.isCanonical" when args.Count >= 1:
                return Trav(0, 2);
            case "masked" or "prefixLength" or "family" or "isUnspecified" or "isLoopback" or "isLinkLocalMulticast"
                or "isLinkLocalUnicast" or "isGlobalUnicast":
                return 1;
            case "containsIP" when args.Count >= 2:
            {
                ulong c = CelCost.Ceil((Size(0) + Size(0)) * CelCost.StringTraversalCostFactor);
                if (args[1] is CelString) c += Trav(1); // cidr_contains_ip_string
                return c;
            }
            case "containsCIDR" when args.Count >= 2:
            {
                ulong c = CelCost.Ceil((Size(0) + Size(0)) * CelCost.StringTraversalCostFactor);
                c += Trav(0) + 1;
                if (args[1] is CelString) c += Trav(1); // cidr_contains_cidr_string
                return c;
            }
            case "quantity" or "isQuantity" or "semver" or "isSemver" when args.Count >= 1:
                return Trav(0);
            case "validate" when args.Count >= 2 && args[0] is CelNamedFormat f:
            {
                ulong str = CelCost.Ceil((1.0 + Size(1)) * CelCost.StringTraversalCostFactor);
                ulong re = CelCost.Ceil(MaxRegexSize(f.Name) * CelCost.RegexStringLengthCostFactor);
                return str * re;
            }
            case "format.named": return 1;
            case "sign" or "asInteger" or "isInteger" or "asApproximateFloat" or "isGreaterThan" or "isLessThan"
                or "compareTo" or "add" or "sub" or "major" or "minor" or "patch":
                return 1;
            case "getScheme" or "getHostname" or "getHost" or "getPort" or "getEscapedPath" or "getQuery":
                return 1;
            case "_==_" when args.Count == 2 && args[0] is CelOpaque:
                return 1;
        }
        return null;
    }

    const string UuidPattern = @"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$";
    const string DateTimePattern = @"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$";

    /// <summary>library/format.go: each named format's MaxRegexSize (the cost of its validate()).</summary>
    public static int MaxRegexSize(string formatName) => formatName switch
    {
        "DNS1123Label" or "DNS1035Label" or "DNS1123LabelPrefix" or "DNS1035LabelPrefix" => 30,
        "DNS1123Subdomain" or "QualifiedName" or "DNS1123SubdomainPrefix" => 60,
        "LabelValue" => 40,
        "URI" => 1103,
        "uuid" => UuidPattern.Length,
        "byte" => 84,
        "date" or "datetime" => DateTimePattern.Length,
        _ => 0,
    };

    /// <summary>cost.go <c>traversalCost</c>: strings and bytes length × 0.1 rounded down (bytes, not code
    /// points), lists and maps the sum over their elements (and keys), 1 for anything else.</summary>
    public static ulong TraversalCost(CelValue v)
    {
        switch (v)
        {
            case CelString s: return (ulong)(System.Text.Encoding.UTF8.GetByteCount(s.Value) * CelCost.StringTraversalCostFactor);
            case CelBytes b: return (ulong)(b.Value.Length * CelCost.StringTraversalCostFactor);
            case CelList l:
            {
                ulong c = 0;
                foreach (var i in l.Items) c += TraversalCost(i);
                return c;
            }
            case CelMap m:
            {
                ulong c = 0;
                foreach (var kv in m.Entries) c += TraversalCost(kv.Key) + TraversalCost(kv.Value);
                return c;
            }
            default: return 1;
        }
    }
}
