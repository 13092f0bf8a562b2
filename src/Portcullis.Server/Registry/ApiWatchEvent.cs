using System.Text.Json.Nodes;

namespace Portcullis.Server.Registry;

/// <summary>
/// The type of a watch event as the API sends it (upstream's watch.EventType). The zero value
/// names no event; <see cref="WatchEventTypeWire"/> holds the wire strings.
/// </summary>
public enum WatchEventType
{
    Added = 1,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// <summary>The wire form of <see cref="WatchEventType"/>, written in this one place.</summary>
public static class WatchEventTypeWire
{
    /// <summary>"ADDED", "MODIFIED", "DELETED", "BOOKMARK" or "ERROR".</summary>
    public static string ToWire(this WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED",
        WatchEventType.Modified => "MODIFIED",
        WatchEventType.Deleted => "DELETED",
        WatchEventType.Bookmark => "BOOKMARK",
        WatchEventType.Error => "ERROR",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a watch event type"),
    };

    /// <summary>The same text as UTF-8 bytes, for the watch writer's fast path (no encoding per event).</summary>
    public static ReadOnlySpan<byte> ToWireUtf8(this WatchEventType type) => type switch
    {
        WatchEventType.Added => "ADDED"u8,
        WatchEventType.Modified => "MODIFIED"u8,
        WatchEventType.Deleted => "DELETED"u8,
        WatchEventType.Bookmark => "BOOKMARK"u8,
        WatchEventType.Error => "ERROR"u8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a watch event type"),
    };
}

/// <summary>A watch event as the API sends it.</summary>
public readonly record struct ApiWatchEvent(WatchEventType Type, JsonObject Object)
{
    /// <summary>
    /// The object already encoded as compact JSON, for a watch that asked for it (then
    /// <see cref="Object"/> is not decoded: it is null).
    /// </summary>
    internal ServedItem? Served { get; init; }
}
