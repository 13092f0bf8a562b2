using System.Diagnostics;
using Portcullis.Server.Observability;

namespace Portcullis.Server.Admission;

/// <summary>
/// All mutating plugins in order, then (on the final object) all validating plugins; each step and each plugin is timed
/// (apiserver_admission_step_/controller_admission_duration_seconds).
/// </summary>
public sealed class AdmissionChain(IReadOnlyList<IAdmissionPlugin> plugins)
{
    public static readonly AdmissionChain Empty = new([]);

    public IReadOnlyList<IAdmissionPlugin> Plugins => plugins;

    public async ValueTask MutateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var step = Stopwatch.GetTimestamp();
        var rejected = true;
        try
        {
            foreach (var p in plugins)
                if (p is IMutatingAdmission m && p.Handles(r.Operation))
                {
                    var started = Stopwatch.GetTimestamp();
                    var refused = true;
                    try { await m.AdmitAsync(r, ct); refused = false; }
                    finally { AdmissionMetrics.ObserveController(started, refused, r.Operation.ToWire(), "admit", p.Name); }
                }
            rejected = false;
        }
        finally { AdmissionMetrics.ObserveStep(step, rejected, r.Operation.ToWire(), "admit"); }
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        var step = Stopwatch.GetTimestamp();
        var rejected = true;
        try
        {
            foreach (var p in plugins)
                if (p is IValidatingAdmission v && p.Handles(r.Operation))
                {
                    var started = Stopwatch.GetTimestamp();
                    var refused = true;
                    try { await v.ValidateAsync(r, ct); refused = false; }
                    finally { AdmissionMetrics.ObserveController(started, refused, r.Operation.ToWire(), "validate", p.Name); }
                }
            rejected = false;
        }
        finally { AdmissionMetrics.ObserveStep(step, rejected, r.Operation.ToWire(), "validate"); }
    }
}
