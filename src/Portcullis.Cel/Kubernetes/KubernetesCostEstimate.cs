namespace Portcullis.Cel;

/// <summary>apiserver pkg/cel/library/cost.go (kubernetes-1.33.0) <c>CostEstimator.EstimateCallCost</c>: the
/// static cost of the Kubernetes library functions (the call alone; its arguments are added by the estimator).</summary>
public static class KubernetesCostEstimate
{
    const double F = CelCost.StringTraversalCostFactor;
    static readonly CelCallEstimate OneCost = new(CelCostEstimate.Fixed(1));

    /// <summary>apiserver pkg/cel/format.go MaxNameFormatRegexSize (the longest named-format regex).</summary>
    public const int MaxNameFormatRegexSize = 128;

    /// <summary>apiserver pkg/cel/limits.go MaxFormatSize.</summary>
    public const int MaxFormatSize = 64;

    public static CelCallEstimate? EstimateCallCost(string function, CelCostNode? target, IReadOnlyList<CelCostNode> args,
        Func<CelCostNode, CelSizeEstimate?> sizer)
    {
        CelSizeEstimate Size(CelCostNode n) => sizer(n) ?? CelSizeEstimate.Unknown;
        switch (function)
        {
            case "check": return new(CelCostEstimate.Fixed(350000));
            case "serviceAccount" or "path" or "group" or "resource" or "subresource" or "namespace" or "name"
                or "allowed" or "reason" or "error" or "errored":
                return OneCost;
            case "fieldSelector" or "labelSelector" when args.Count == 1:
            {
                var len = Size(args[0]);
                var parse = len.MultiplyByCostFactor(F);
                var requirements = len.MultiplyByCostFactor(0.5).MultiplyByCostFactor(CelCost.ListCreateBaseCost + CelCost.StructCreateBaseCost);
                return new(CelCostEstimate.Fixed(CelCost.ListCreateBaseCost).Add(parse).Add(requirements));
            }
            case "isSorted" or "sum" or "max" or "min" or "indexOf" or "lastIndexOf" when target is not null:
            {
                if (target.Type.Name == "list" && target.Type.Params.Count > 0)
                {
                    var elType = target.Type.Params[0];
                    var el = new CelCostNode(target.Path is null ? null : [.. target.Path, "@items"], elType, null, null);
                    var elCost = CelCostEstimate.Fixed(1);
                    if (elType.Name is "string" or "bytes") elCost = elCost.Add(Size(el).MultiplyByCostFactor(F));
                    return new(Size(target).MultiplyByCost(elCost));
                }
                return new(Size(target).MultiplyByCostFactor(F));
            }
            case "url" or "jsonpatch.escapeKey" when args.Count == 1:
            {
                var sz = Size(args[0]);
                return new(sz.MultiplyByCostFactor(F), sz);
            }
            case "lowerAscii" or "upperAscii" or "substring" or "trim" when target is not null:
            {
                var sz = Size(target);
                return new(sz.MultiplyByCostFactor(F), sz);
            }
            case "replace" when target is not null && args.Count >= 2:
                return Replace(Size(target), Size(args[0]), Size(args[1]));
            case "split" when target is not null:
            {
                var sz = Size(target);
                ulong max = sz.Max;
                if (args.Count > 1 && args[1].Expr is ConstExpr { Value: CelInt i }) max = (ulong)i.Value;
                return new(sz.MultiplyByCostFactor(2 * F), new CelSizeEstimate(0, max));
            }
            case "join" when target is not null:
            {
                var sz = default(CelSizeEstimate);
                var listSize = Size(target);
                if (target.Type.Name == "list" && target.Type.Params.Count > 0)
                {
                    var el = new CelCostNode(target.Path is null ? null : [.. target.Path, "@items"], target.Type.Params[0], null, null);
                    sz = listSize.Multiply(Size(el));
                }
                if (args.Count > 0)
                {
                    var sep = Size(args[0]);
                    ulong minSep = listSize.Min > 0 ? listSize.Min - 1 : 0;
                    ulong maxSep = listSize.Max > 0 ? listSize.Max - 1 : 0;
                    sz = sz.Add(sep.Multiply(new CelSizeEstimate(minSep, maxSep)));
                }
                return new(sz.MultiplyByCostFactor(F), sz);
            }
            case "find" or "findAll" when target is not null && args.Count >= 1:
            {
                var sz = Size(target);
                var str = sz.Add(CelSizeEstimate.Fixed(1)).MultiplyByCostFactor(F);
                var re = Size(args[0]).MultiplyByCostFactor(CelCost.RegexStringLengthCostFactor);
                return new(str.Multiply(re), new CelSizeEstimate(0, sz.Max));
            }
            // cel-go always passes a target node (empty for a global call), so these read their first argument
            case "cidr" or "isIP" or "isCIDR" or "quantity" or "isQuantity" or "semver" or "isSemver" when args.Count >= 1:
                return new(Size(args[0]).MultiplyByCostFactor(F));
            case "ip" when args.Count >= 1:
                return args[0].Type.Name == "net.CIDR" ? OneCost : new(Size(args[0]).MultiplyByCostFactor(F));
            case "ip":
                return OneCost; // cidr.ip()
            case "ip.isCanonical" when args.Count >= 1:
                return new(Size(args[0]).MultiplyByCostFactor(2 * F));
            case "masked" or "prefixLength" or "family" or "isUnspecified" or "isLoopback" or "isLinkLocalMulticast"
                or "isLinkLocalUnicast" or "isGlobalUnicast":
                return OneCost;
            case "containsIP" when target is not null && args.Count >= 1:
            {
                var sz = new CelSizeEstimate(4, 16);
                var c = sz.Add(sz).MultiplyByCostFactor(F);
                if (args[0].Type.Name == "string") c = c.Add(Cost(Size(args[0])).MultiplyByCostFactor(F));
                return new(c);
            }
            case "containsCIDR" when target is not null && args.Count >= 1:
            {
                var sz = new CelSizeEstimate(4, 16);
                var c = sz.Add(sz).MultiplyByCostFactor(F).Add(sz.MultiplyByCostFactor(F)).Add(CelCostEstimate.Fixed(1));
                if (args[0].Type.Name == "string") c = c.Add(Cost(Size(args[0])).MultiplyByCostFactor(F));
                return new(c);
            }
            case "validate" when target is not null && args.Count >= 1:
                return new(Size(args[0]).MultiplyByCostFactor(F).MultiplyByCostFactor(MaxNameFormatRegexSize * CelCost.RegexStringLengthCostFactor));
            case "format.named": return OneCost;
            case "sign" or "asInteger" or "isInteger" or "asApproximateFloat" or "isGreaterThan" or "isLessThan"
                or "compareTo" or "add" or "sub" or "major" or "minor" or "patch":
                return OneCost;
            case "getScheme" or "getHostname" or "getHost" or "getPort" or "getEscapedPath" or "getQuery":
                return OneCost;
            case "_==_" when args.Count == 2 && args[0].Type.Equals(args[1].Type):
                switch (args[0].Type.Name)
                {
                    case "net.IP" or "net.CIDR" or "kubernetes.Quantity" or "kubernetes.Semver":
                        return OneCost;
                    case "kubernetes.NamedFormat":
                        return new(new CelCostEstimate(1, MaxFormatSize).MultiplyByCostFactor(F));
                    case "kubernetes.URL":
                    {
                        // as upstream: both sizes are read from the right-hand side
                        var size = CelSizeEstimate.Fixed(1);
                        if (args[1].ComputedSize is { } r) size = r.Union(r);
                        return new(new CelCostEstimate(1, size.Max).MultiplyByCostFactor(F));
                    }
                }
                break;
        }
        return null;
    }

    static CelCostEstimate Cost(CelSizeEstimate s) => new(s.Min, s.Max);

    static CelCallEstimate Replace(CelSizeEstimate sz, CelSizeEstimate toReplace, CelSizeEstimate replaceWith)
    {
        ulong countMax, countMin, retainedMax = 0, retainedMin = 0;
        if (toReplace.Min == 0)
        {
            countMax = sz.Max < ulong.MaxValue ? sz.Max + 1 : sz.Max;
            retainedMax = sz.Max;
        }
        else if (replaceWith.Max <= toReplace.Min)
        {
            countMax = 0;
            retainedMax = sz.Max;
        }
        else countMax = (ulong)Math.Ceiling((double)sz.Max / toReplace.Min);
        if (toReplace.Max == 0)
        {
            countMin = sz.Min < ulong.MaxValue ? sz.Min + 1 : sz.Min;
            retainedMin = sz.Min;
        }
        else if (toReplace.Max <= replaceWith.Min)
        {
            countMin = 0;
            retainedMin = sz.Min;
        }
        else countMin = (ulong)Math.Ceiling((double)sz.Min / toReplace.Max);
        var size = new CelSizeEstimate(countMin, countMax).Multiply(replaceWith).Add(new CelSizeEstimate(retainedMin, retainedMax));
        return new(sz.MultiplyByCostFactor(2 * F), size);
    }
}
