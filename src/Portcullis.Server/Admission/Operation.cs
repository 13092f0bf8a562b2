namespace Portcullis.Server.Admission;

/// <summary>
/// The operation an admission request performs (upstream's admission.Operation). The zero value
/// names no operation, so a request built without one is handled by no plugin.
/// </summary>
public enum Operation
{
    Create = 1,
    Update,
    Delete,
    Connect,
}

/// <summary>The wire form of <see cref="Operation"/>, written in this one place.</summary>
public static class OperationWire
{
    /// <summary>"CREATE", "UPDATE", "DELETE" or "CONNECT", as upstream's constants.</summary>
    public static string ToWire(this Operation op) => op switch
    {
        Operation.Create => "CREATE",
        Operation.Update => "UPDATE",
        Operation.Delete => "DELETE",
        Operation.Connect => "CONNECT",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "not an admission operation"),
    };
}
