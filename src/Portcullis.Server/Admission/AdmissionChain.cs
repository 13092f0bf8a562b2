namespace Portcullis.Server.Admission;

/// <summary>All mutating plugins in order, then (on the final object) all validating plugins.</summary>
public sealed class AdmissionChain(IReadOnlyList<IAdmissionPlugin> plugins)
{
    public static readonly AdmissionChain Empty = new([]);

    public IReadOnlyList<IAdmissionPlugin> Plugins => plugins;

    public async ValueTask MutateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        foreach (var p in plugins)
            if (p is IMutatingAdmission m && p.Handles(r.Operation)) await m.AdmitAsync(r, ct);
    }

    public async ValueTask ValidateAsync(AdmissionRequest r, CancellationToken ct = default)
    {
        foreach (var p in plugins)
            if (p is IValidatingAdmission v && p.Handles(r.Operation)) await v.ValidateAsync(r, ct);
    }
}
