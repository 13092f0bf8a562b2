using System.Text.Json.Nodes;
using Portcullis.Server.Api.Printing;
using Portcullis.Server.Errors;

namespace Portcullis.Server.Api.Resources;

/// <summary>
/// Everything one kind does differently from the others, in the order the generic store calls it
/// (upstream's RESTCreateStrategy, RESTUpdateStrategy, RESTDeleteStrategy, GetAttrs and TableConvertor
/// in one contract). Each built-in kind implements it in one file, <c>Api/Resources/&lt;Group&gt;/&lt;Kind&gt;.cs</c>;
/// a kind defined at run time (a CustomResourceDefinition) implements the same contract, so the store,
/// discovery, OpenAPI and the printers never ask which kind they hold.
/// </summary>
/// <remarks>
/// Order on create: <see cref="Default"/> (on the decoded request), mutating admission,
/// <see cref="PrepareForCreate"/>, metadata validation then <see cref="Validate"/> (any error: a 422),
/// validating admission. On update the same with <see cref="PrepareForUpdate"/> and
/// <see cref="ValidateUpdate"/>. A hook must not throw for bad input: it reports field errors.
/// </remarks>
public interface IKindStrategy
{
    /// <summary>Upstream's defaults for the kind (SetObjectDefaults_*), applied to every decoded object.</summary>
    void Default(JsonObject obj);

    /// <summary>Create resets and fills (status cleared, server-owned fields set), after mutating admission.</summary>
    void PrepareForCreate(JsonObject obj, StrategyContext ctx);

    /// <summary>Update rules after the generic ones (status and spec kept by the store per subresource).</summary>
    void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx);

    /// <summary>The kind's validation beyond object metadata: field errors, none when valid. <paramref name="old"/> is null on create.</summary>
    List<FieldError> Validate(JsonObject obj, JsonObject? old);

    /// <summary>Update validation; the subresource written through ("" for the object) may change the rules (CSR /approval).</summary>
    List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource);

    /// <summary>Field selector labels beyond metadata.name and metadata.namespace, with their values (upstream's GetAttrs).</summary>
    IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels { get; }

    /// <summary>
    /// Field labels the store indexes (upstream's Indexers), so a list selecting one with <c>=</c>
    /// reads only the objects with that value. Each is one of <see cref="FieldLabels"/> whose label is
    /// its JSON path (<c>spec.nodeName</c>); none by default.
    /// </summary>
    IReadOnlyList<string> IndexedFields { get; }

    /// <summary>Graceful deletion: seconds the object stays marked before it goes (0: at once), given the requested period.</summary>
    long GracePeriod(JsonObject obj, long? requested);

    /// <summary>Finalizers the first delete adds (a CustomResourceDefinition's cleanup finalizer); none for most kinds.</summary>
    IReadOnlyList<string> DeletionFinalizers(JsonObject obj);

    /// <summary>Called on the object when a delete only marks it (finalizers pending).</summary>
    void OnDeletionMarked(JsonObject obj);

    /// <summary>kubectl get's columns and each object's cells (the server-side Table).</summary>
    TablePrinter Printer { get; }
}

/// <summary>
/// The contract's neutral answers: no defaults, no preparation, valid, no field labels (none indexed), deleted at
/// once, upstream's default table. A kind overrides what it does differently.
/// </summary>
public abstract class KindStrategy : IKindStrategy
{
    private static readonly IReadOnlyDictionary<string, Func<JsonObject, string?>> NoFieldLabels =
        new Dictionary<string, Func<JsonObject, string?>>();

    public virtual void Default(JsonObject obj) { }
    public virtual void PrepareForCreate(JsonObject obj, StrategyContext ctx) { }
    public virtual void PrepareForUpdate(JsonObject obj, JsonObject old, StrategyContext ctx) { }
    public virtual List<FieldError> Validate(JsonObject obj, JsonObject? old) => [];
    public virtual List<FieldError> ValidateUpdate(JsonObject obj, JsonObject old, string subresource) => Validate(obj, old);
    public virtual IReadOnlyDictionary<string, Func<JsonObject, string?>> FieldLabels => NoFieldLabels;
    public virtual IReadOnlyList<string> IndexedFields => [];
    public virtual long GracePeriod(JsonObject obj, long? requested) => 0;
    public virtual IReadOnlyList<string> DeletionFinalizers(JsonObject obj) => [];
    public virtual void OnDeletionMarked(JsonObject obj) { }
    public virtual TablePrinter Printer => TablePrinters.Default;
}

/// <summary>A kind with nothing of its own: the review APIs, and kinds whose rules are all generic.</summary>
public sealed class PlainKind : KindStrategy
{
    public static PlainKind Instance { get; } = new();
}

/// <summary>What a strategy may need beyond the object.</summary>
public sealed record StrategyContext(TimeProvider Time)
{
    /// <summary>Who writes (CSRs record their requester).</summary>
    public global::Portcullis.Server.Authentication.UserInfo? User { get; init; }
    /// <summary>The subresource written through ("" for the object itself).</summary>
    public string Subresource { get; init; } = "";
}
