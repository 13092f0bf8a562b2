namespace Portcullis.Server.Authorization;

/// <summary>
/// The verb of a request as authorization sees it (upstream's authorizer.Attributes GetVerb).
/// An open vocabulary: RBAC rules and SubjectAccessReviews carry any verb ("use", "bind", custom
/// ones), so this wraps the string; the statics are the verbs the server itself compares
/// against. There is no conversion from string: text becomes a verb only at the edges (request
/// parsing, access review decoding, analysis input), with <c>new Verb(text)</c>.
/// </summary>
public readonly record struct Verb
{
    private readonly string? _value;

    public Verb(string value) => _value = value ?? throw new ArgumentNullException(nameof(value));

    /// <summary>The wire text; empty for the zero value (no verb).</summary>
    public string Value => _value ?? "";

    public override string ToString() => Value;

    /// <summary>Equal texts are equal verbs (the zero value equals <c>new Verb("")</c>).</summary>
    public bool Equals(Verb other) => string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    /// <summary>
    /// The texts of the well-known verbs, for <c>switch</c> statements over <see cref="Value"/>
    /// (a static readonly value cannot be a case label).
    /// </summary>
    public static class Text
    {
        public const string Get = "get", List = "list", Watch = "watch", Create = "create", Update = "update",
            Patch = "patch", Delete = "delete", DeleteCollection = "deletecollection", Proxy = "proxy";
        public const string Use = "use", Bind = "bind", Escalate = "escalate", Impersonate = "impersonate",
            Approve = "approve", Sign = "sign";
    }

    // The request verbs of RequestInfoFactory.
    public static readonly Verb Get = new(Text.Get);
    public static readonly Verb List = new(Text.List);
    public static readonly Verb Watch = new(Text.Watch);
    public static readonly Verb Create = new(Text.Create);
    public static readonly Verb Update = new(Text.Update);
    public static readonly Verb Patch = new(Text.Patch);
    public static readonly Verb Delete = new(Text.Delete);
    public static readonly Verb DeleteCollection = new(Text.DeleteCollection);
    public static readonly Verb Proxy = new(Text.Proxy);

    // The special verbs the server checks itself.
    public static readonly Verb Use = new(Text.Use);
    public static readonly Verb Bind = new(Text.Bind);
    public static readonly Verb Escalate = new(Text.Escalate);
    public static readonly Verb Impersonate = new(Text.Impersonate);
    public static readonly Verb Approve = new(Text.Approve);
    public static readonly Verb Sign = new(Text.Sign);
}
