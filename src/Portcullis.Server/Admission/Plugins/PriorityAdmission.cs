using System.Text.Json.Nodes;
using Portcullis.Server.Errors;
using static Portcullis.Server.Admission.Plugins.PodAdmissionJson;
using Portcullis.Server.Api.Views;

namespace Portcullis.Server.Admission.Plugins;

/// <summary>
/// Upstream's Priority admission plugin (plugin/pkg/admission/priority). A new pod's priority
/// (and preemption policy) comes from its PriorityClass, or from the global default class, or is
/// 0 / PreemptLowerPriority when there is none; naming a class that does not exist, or setting a
/// priority that disagrees with the class, is refused. Updates keep the priority and preemption
/// policy the pod was created with when the new object leaves them out. A PriorityClass may be
/// marked globalDefault only while no other class is.
/// </summary>
public sealed class PriorityAdmission : IMutatingAdmission, IValidatingAdmission
{
    public const string SystemNodeCritical = "system-node-critical";
    public const string SystemClusterCritical = "system-cluster-critical";
    public const long SystemCriticalPriority = 2_000_000_000;
    /// <summary>scheduling.DefaultPriorityWhenNoDefaultClassExists.</summary>
    public const long DefaultPriorityWhenNoDefaultClassExists = 0;
    public const string PreemptLowerPriority = "PreemptLowerPriority";

    private readonly Func<string, CancellationToken, Task<JsonObject?>>? _getPriorityClass;
    private readonly Func<CancellationToken, Task<IReadOnlyList<JsonObject>>>? _listPriorityClasses;

    /// <param name="getPriorityClass">
    /// name → the PriorityClass, or null when it does not exist; null while PriorityClasses are not
    /// served. The two system classes always resolve, as they always exist upstream.
    /// </param>
    /// <param name="listPriorityClasses">All PriorityClasses (to find the global default); null: none.</param>
    public PriorityAdmission(
        Func<string, CancellationToken, Task<JsonObject?>>? getPriorityClass = null,
        Func<CancellationToken, Task<IReadOnlyList<JsonObject>>>? listPriorityClasses = null)
    {
        _getPriorityClass = getPriorityClass;
        _listPriorityClasses = listPriorityClasses;
    }

    public string Name => "Priority";

    public bool Handles(Operation operation) => operation is Operation.Create or Operation.Update or Operation.Delete;

    /// <summary>The classes upstream creates at start-up (scheduling.SystemPriorityClasses), as the API serves them.</summary>
    public static IReadOnlyList<JsonObject> SystemPriorityClasses() =>
    [
        SystemClass(SystemNodeCritical, SystemCriticalPriority + 1000, "Used for system critical pods that must not be moved from their current node."),
        SystemClass(SystemClusterCritical, SystemCriticalPriority, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ];

    private static JsonObject SystemClass(string name, long value, string description) => new()
    {
        ["kind"] = "PriorityClass",
        ["apiVersion"] = "scheduling.k8s.io/v1",
        ["metadata"] = new JsonObject { ["name"] = name },
        ["value"] = Num(value),
        ["description"] = description,
        ["preemptionPolicy"] = PreemptLowerPriority,
    };

    public async ValueTask AdmitAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Subresource.Length > 0 || !IsPod(r)) return;
        if (r.Operation == Operation.Update) KeepPriorityOnUpdate(r);
        else if (r.Operation == Operation.Create) await AdmitNewPodAsync(r, ct);
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        if (r.Subresource.Length > 0) return;
        if (r.Resource.Group != "scheduling.k8s.io" || r.Resource.Plural != "priorityclasses") return;
        if (r.Operation is not (Operation.Create or Operation.Update)) return;
        if (Bool(r.Object, "globalDefault") != true) return;
        var current = await DefaultPriorityClassAsync(ct);
        if (current is null) return;
        var currentName = Str(Obj(current, "metadata"), "name");
        var name = Str(Obj(r.Object, "metadata"), "name");
        if (r.Operation == Operation.Create || currentName != name)
            throw Forbidden(r, $"PriorityClass {currentName} is already marked as default. Only one default can exist");
    }

    /// <summary>The creation set the priority; an update that leaves it (or the preemption policy) out keeps the old one.</summary>
    private static void KeepPriorityOnUpdate(AdmissionRequest r)
    {
        if (r.OldObject is null) return;
        var oldSpec = Obj(r.OldObject, "spec");
        if (oldSpec is null) return;
        var spec = EnsureObj(r.Object, "spec");
        if (IsMissing(spec, "priority") && !IsMissing(oldSpec, "priority"))
            spec["priority"] = oldSpec["priority"]!.DeepClone();
        if (IsMissing(spec, "preemptionPolicy") && !IsMissing(oldSpec, "preemptionPolicy"))
            spec["preemptionPolicy"] = oldSpec["preemptionPolicy"]!.DeepClone();
    }

    private static bool IsMissing(JsonObject o, string key) => !o.TryGetPropertyValue(key, out var v) || v is null;

    private async Task AdmitNewPodAsync(AdmissionRequest r, CancellationToken ct)
    {
        var spec = EnsureObj(r.Object, "spec");
        var className = new PodSpecView(spec).PriorityClassName;
        long priority;
        string? preemptionPolicy;
        if (className.Length == 0)
        {
            var dpc = await DefaultPriorityClassAsync(ct);
            if (dpc is null)
            {
                priority = DefaultPriorityWhenNoDefaultClassExists;
                preemptionPolicy = PreemptLowerPriority;
            }
            else
            {
                var dpcName = Str(Obj(dpc, "metadata"), "name");
                if (dpcName.Length > 0) spec["priorityClassName"] = dpcName;
                priority = Long(dpc, "value") ?? 0;
                preemptionPolicy = NullIfEmpty(Str(dpc, "preemptionPolicy"));
            }
        }
        else
        {
            var pc = await GetPriorityClassAsync(className, ct)
                ?? throw Forbidden(r, $"no PriorityClass with name {className} was found");
            priority = Long(pc, "value") ?? 0;
            preemptionPolicy = NullIfEmpty(Str(pc, "preemptionPolicy"));
        }

        if (Long(spec, "priority") is { } given && given != priority)
            throw Forbidden(r, $"the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {priority} from the given PriorityClass name");
        spec["priority"] = Num(priority);

        if (preemptionPolicy is null) return;
        var givenPolicy = Str(spec, "preemptionPolicy");
        if (!IsMissing(spec, "preemptionPolicy") && givenPolicy != preemptionPolicy)
            throw Forbidden(r, $"the string value of PreemptionPolicy ({givenPolicy}) must not be provided in pod spec; priority admission controller computed {preemptionPolicy} from the given PriorityClass name");
        spec["preemptionPolicy"] = preemptionPolicy;
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    private async Task<JsonObject?> GetPriorityClassAsync(string name, CancellationToken ct)
    {
        if (_getPriorityClass is not null)
        {
            try
            {
                if (await _getPriorityClass(name, ct) is { } pc) return pc;
            }
            catch (ApiException e) when (e.Code == 404) { }
            catch (ApiException e)
            {
                throw Plain($"failed to get PriorityClass with name {name}: {e.Message}");
            }
        }
        return SystemPriorityClasses().FirstOrDefault(c => Str(Obj(c, "metadata"), "name") == name);
    }

    /// <summary>The globalDefault class; with several (a race), the one of lowest value.</summary>
    private async Task<JsonObject?> DefaultPriorityClassAsync(CancellationToken ct)
    {
        if (_listPriorityClasses is null) return null;
        IReadOnlyList<JsonObject> all;
        try { all = await _listPriorityClasses(ct); }
        catch (ApiException e) { throw Plain($"failed to get default priority class: {e.Message}"); }
        JsonObject? best = null;
        foreach (var pc in all)
        {
            if (Bool(pc, "globalDefault") != true) continue;
            if (best is null || (Long(best, "value") ?? 0) > (Long(pc, "value") ?? 0)) best = pc;
        }
        return best;
    }
}
