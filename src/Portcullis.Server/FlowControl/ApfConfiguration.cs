using System.Text.Json.Nodes;

namespace Portcullis.Server.FlowControl;

/// <summary>
/// One priority level as the dispatcher uses it: exempt (no limit) or limited, with its nominal concurrency limit and,
/// for a limited level, its <see cref="QueueSet"/> (kept across configurations while the level keeps its name and type,
/// so queued requests are not lost when the objects change).
/// </summary>
public sealed class PriorityLevel
{
    public required string Name { get; init; }
    public string Uid { get; set; } = "";
    public required bool IsExempt { get; init; }
    public int NominalShares { get; set; }
    public int LendablePercent { get; set; }
    public int? BorrowingLimitPercent { get; set; }
    /// <summary>0 for a level whose limitResponse is Reject.</summary>
    public int Queues { get; set; }
    public int HandSize { get; set; }
    public int QueueLengthLimit { get; set; }
    /// <summary>NominalCL: ceil(server concurrency limit × shares / sum of all levels' shares).</summary>
    public int NominalLimit { get; set; }
    /// <summary>The limit requests are dispatched against (the nominal one: no borrowing between levels).</summary>
    public int CurrentLimit => NominalLimit;
    /// <summary>The queues of a limited level; null for the exempt level.</summary>
    public QueueSet? QueueSet { get; init; }

    /// <summary>Reads a PriorityLevelConfiguration as stored, or null when its union is broken (queueSetCompleterForPL's checks).</summary>
    internal static (bool Exempt, int Shares, int Lendable, int? Borrowing, int Queues, int Hand, int Qll)? Read(JsonObject pl)
    {
        var name = FlowSchemaMatcher.Str(pl["metadata"]?["name"]);
        var spec = pl["spec"] as JsonObject;
        var type = FlowSchemaMatcher.Str(spec?["type"]);
        if ((type == "Exempt") != (name == "exempt")) return null;
        if (type == "Exempt")
        {
            var e = spec!["exempt"] as JsonObject;
            return (true, Int(e?["nominalConcurrencyShares"]) ?? 0, Int(e?["lendablePercent"]) ?? 0, null, 0, 0, 0);
        }
        if (type != "Limited" || spec!["limited"] is not JsonObject l) return null;
        var lr = l["limitResponse"] as JsonObject;
        var q = lr?["queuing"] as JsonObject;
        var reject = FlowSchemaMatcher.Str(lr?["type"]) == "Reject";
        if (reject != (q is null)) return null;
        return (false, Int(l["nominalConcurrencyShares"]) ?? 30, Int(l["lendablePercent"]) ?? 0, Int(l["borrowingLimitPercent"]),
            q is null ? 0 : Int(q["queues"]) ?? 64, q is null ? 0 : Int(q["handSize"]) ?? 8, q is null ? 0 : Int(q["queueLengthLimit"]) ?? 50);
    }

    private static int? Int(JsonNode? n) => Serialization.JsonRead.LongTruncated(n) is { } x ? (int)x : null;
}

/// <summary>
/// A digested flow-control configuration (upstream's cfgMeal): the FlowSchemas in matching order, each with its level,
/// and the levels by name. Immutable once built; the dispatcher swaps in a new one when the objects change.
/// </summary>
public sealed class ApfConfiguration
{
    /// <summary>The schemas whose level exists, by matchingPrecedence then name; the mandatory exempt schema first and
    /// catch-all last when their objects are missing.</summary>
    public required (FlowSchemaMatcher Schema, PriorityLevel Level)[] Schemas { get; init; }
    public required IReadOnlyDictionary<string, PriorityLevel> Levels { get; init; }
    /// <summary>For each FlowSchema object: whether its priority level reference dangles (the Dangling condition).</summary>
    public required IReadOnlyDictionary<string, bool> Dangling { get; init; }
    /// <summary>The catch-all pair, for a request no schema matches.</summary>
    public required (FlowSchemaMatcher Schema, PriorityLevel Level) CatchAll { get; init; }

    /// <summary>
    /// Digests the objects (digestConfigObjects): levels first, then the schemas that reference an existing level; a
    /// missing mandatory level or schema is imagined from the bootstrap objects; each limited level's nominal limit is
    /// its share of <paramref name="serverConcurrencyLimit"/>. Levels of <paramref name="previous"/> with the same name
    /// and type keep their queues.
    /// </summary>
    public static ApfConfiguration Build(IEnumerable<JsonObject> flowSchemas, IEnumerable<JsonObject> priorityLevels,
        int serverConcurrencyLimit, ApfConfiguration? previous, TimeProvider time)
    {
        var levels = new Dictionary<string, PriorityLevel>(StringComparer.Ordinal);
        void AddLevel(JsonObject pl)
        {
            if (PriorityLevel.Read(pl) is not { } r) return;
            var name = FlowSchemaMatcher.Str(pl["metadata"]?["name"]);
            var level = previous?.Levels.GetValueOrDefault(name) is { } old && old.IsExempt == r.Exempt
                ? old
                : new PriorityLevel { Name = name, IsExempt = r.Exempt, QueueSet = r.Exempt ? null : new QueueSet(name, time) };
            level.Uid = FlowSchemaMatcher.Str(pl["metadata"]?["uid"]);
            (level.NominalShares, level.LendablePercent, level.BorrowingLimitPercent) = (r.Shares, r.Lendable, r.Borrowing);
            (level.Queues, level.HandSize, level.QueueLengthLimit) = (r.Queues, r.Hand, r.Qll);
            levels[name] = level;
        }
        foreach (var pl in priorityLevels) AddLevel(pl);
        var real = levels.Keys.ToHashSet(StringComparer.Ordinal);

        var dangling = new Dictionary<string, bool>(StringComparer.Ordinal);
        var schemas = new List<(FlowSchemaMatcher, PriorityLevel)>();
        bool haveExempt = false, haveCatchAll = false;
        foreach (var fs in flowSchemas)
        {
            var m = FlowSchemaMatcher.FromObject(fs);
            var found = real.Contains(m.PriorityLevelName);
            dangling[m.Name] = !found;
            if (!found) continue;
            schemas.Add((m, levels[m.PriorityLevelName]));
            haveExempt |= m.Name == "exempt";
            haveCatchAll |= m.Name == "catch-all";
        }
        schemas.Sort((a, b) => a.Item1.MatchingPrecedence != b.Item1.MatchingPrecedence
            ? a.Item1.MatchingPrecedence.CompareTo(b.Item1.MatchingPrecedence)
            : string.CompareOrdinal(a.Item1.Name, b.Item1.Name));

        // Supply missing mandatory objects (imaginePL, and the mandatory FlowSchemas in their places).
        foreach (var pl in BootstrapConfiguration.MandatoryPriorityLevels())
            if (!levels.ContainsKey(FlowSchemaMatcher.Str(pl["metadata"]!["name"]))) AddLevel(pl);
        var mandatory = BootstrapConfiguration.MandatoryFlowSchemas();
        var exempt = FlowSchemaMatcher.FromObject(mandatory[0]);
        var catchAll = FlowSchemaMatcher.FromObject(mandatory[1]);
        if (!haveExempt) schemas.Insert(0, (exempt, levels["exempt"]));
        if (!haveCatchAll) schemas.Add((catchAll, levels["catch-all"]));

        // finishQueueSetReconfigsLocked: the nominal limits.
        double shareSum = levels.Values.Sum(l => (double)l.NominalShares);
        foreach (var l in levels.Values)
        {
            l.NominalLimit = shareSum > 0 ? (int)Math.Ceiling(serverConcurrencyLimit * l.NominalShares / shareSum) : 0;
            l.QueueSet?.Configure(l.NominalLimit, l.Queues, l.HandSize, l.QueueLengthLimit);
        }
        var catchAllPair = schemas.FirstOrDefault(s => s.Item1.Name == "catch-all");
        return new ApfConfiguration
        {
            Schemas = [.. schemas],
            Levels = levels,
            Dangling = dangling,
            CatchAll = catchAllPair.Item1 is null ? (catchAll, levels["catch-all"]) : catchAllPair,
        };
    }
}
