using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Portcullis.Server.Authentication;

namespace Portcullis.Server.Authorization;

/// <summary>
/// <c>serve --record-access FILE</c>: every request the authorizer allowed, as one JSON line per
/// distinct (user, groups, reason, request attributes), for <c>portcullis access minimize</c>
/// (docs/analysis.md). The request thread only looks the attribute set up in a dictionary and,
/// when it is new, offers it to a bounded channel (never waits); a background task writes the
/// lines and flushes whenever the channel is empty, so a line is on disk shortly after its first
/// request even if the server is killed. When the channel is full the line is dropped (and may be
/// offered again by a later request with the same attributes); drops are counted and, at
/// <see cref="DisposeAsync"/>, written as a last summary line and returned.
/// Only the user's name and groups are recorded: never its uid, extra (which can carry a token's
/// id) or any credential.
/// </summary>
public sealed class AccessRecorder : IAsyncDisposable
{
    public const string ApiVersion = "access.portcullis.dev/v1alpha1";
    public const string RecordKind = "AccessRecord";
    public const string SummaryKind = "AccessRecordSummary";
    public const string ViaRbac = "RBAC";
    public const string ViaSystemMasters = UserInfo.SystemMasters;
    public const string ViaOther = "AlwaysAllow";

    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);
    private readonly Channel<(string Key, AuthorizationAttributes Attributes, string Via)> _channel;
    private readonly Stream _stream;
    private readonly Task _writer;
    private long _dropped;
    private long _written;
    /// <summary>Lines handed to the writer, and lines the writer has written (or failed to) and flushed: <see cref="FlushAsync"/>.</summary>
    private long _accepted;
    private long _flushed;

    /// <param name="stream">Where lines go (appended); owned by the recorder.</param>
    /// <param name="capacity">Lines waiting for the writer before new ones are dropped.</param>
    public AccessRecorder(Stream stream, int capacity = 4096)
    {
        _stream = stream;
        _channel = Channel.CreateBounded<(string, AuthorizationAttributes, string)>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>A recorder appending to <paramref name="path"/> (created if missing).</summary>
    public static AccessRecorder Open(string path, int capacity = 4096)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        return new AccessRecorder(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16), capacity);
    }

    /// <summary>Lines dropped so far because the writer was behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Why an allowed request was allowed, as recorded: system:masters, RBAC, or the other allowing mode.</summary>
    public static string Via(AuthorizationAttributes a, AuthorizationResult r) =>
        a.User.Groups.Contains(UserInfo.SystemMasters) ? ViaSystemMasters
        : r.Reason.StartsWith("RBAC", StringComparison.Ordinal) ? ViaRbac
        : ViaOther;

    /// <summary>Records an allowed request; never blocks and never does I/O.</summary>
    public void Record(AuthorizationAttributes a, string via)
    {
        var key = Key(a, via);
        if (!_seen.TryAdd(key, 0)) return;
        if (_channel.Writer.TryWrite((key, a, via)))
        {
            Interlocked.Increment(ref _accepted);
            return;
        }
        // Full (or closed): forget the key, so a later identical request may be recorded.
        _seen.TryRemove(key, out _);
        Interlocked.Increment(ref _dropped);
    }

    private static string Key(AuthorizationAttributes a, string via)
    {
        var sb = new StringBuilder();
        void Add(string s) => sb.Append(s.Length).Append(':').Append(s);
        Add(a.User.Name);
        sb.Append(a.User.Groups.Count);
        foreach (var g in a.User.Groups) Add(g);
        Add(via);
        Add(a.Verb.Value);
        if (a.IsResourceRequest)
        {
            sb.Append('R');
            Add(a.ApiGroup); Add(a.Resource); Add(a.Subresource); Add(a.Namespace); Add(a.Name);
        }
        else
        {
            sb.Append('N');
            Add(a.Path);
        }
        return sb.ToString();
    }

    private async Task WriteLoopAsync()
    {
        var reader = _channel.Reader;
        var buffer = new MemoryStream();
        long done = 0;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                done++;
                buffer.SetLength(0);
                WriteLine(buffer, item.Attributes, item.Via);
                try
                {
                    _stream.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
                    Interlocked.Increment(ref _written);
                }
                catch (IOException)
                {
                    Interlocked.Increment(ref _dropped);
                }
            }
            try { _stream.Flush(); } catch (IOException) { }
            Interlocked.Exchange(ref _flushed, done);
        }
    }

    /// <summary>
    /// Waits until every request recorded before the call is written and flushed (the in-process test host reads the
    /// file right after the requests it analyses).
    /// </summary>
    public async Task FlushAsync(CancellationToken ct = default)
    {
        var target = Interlocked.Read(ref _accepted);
        while (Interlocked.Read(ref _flushed) < target && !_writer.IsCompleted) await Task.Delay(5, ct).ConfigureAwait(false);
    }

    /// <summary>One record line: the JSON object and a newline.</summary>
    internal static void WriteLine(Stream into, AuthorizationAttributes a, string via)
    {
        using (var w = new Utf8JsonWriter(into))
        {
            w.WriteStartObject();
            w.WriteString("apiVersion", ApiVersion);
            w.WriteString("kind", RecordKind);
            w.WriteStartObject("user");
            w.WriteString("name", a.User.Name);
            w.WriteStartArray("groups");
            foreach (var g in a.User.Groups) w.WriteStringValue(g);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteString("via", via);
            w.WriteStartObject("request");
            w.WriteString("verb", a.Verb.Value);
            if (a.IsResourceRequest)
            {
                w.WriteString("apiGroup", a.ApiGroup);
                w.WriteString("resource", a.Resource);
                w.WriteString("subresource", a.Subresource);
                w.WriteString("namespace", a.Namespace);
                w.WriteString("name", a.Name);
                w.WriteNull("nonResourceURL");
            }
            else
            {
                w.WriteNull("apiGroup");
                w.WriteNull("resource");
                w.WriteNull("subresource");
                w.WriteNull("namespace");
                w.WriteNull("name");
                w.WriteString("nonResourceURL", a.Path);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        into.WriteByte((byte)'\n');
    }

    /// <summary>
    /// Stops recording, writes what is queued and, when lines were dropped, a summary line
    /// <c>{"apiVersion":…,"kind":"AccessRecordSummary","dropped":N}</c>; closes the file.
    /// <see cref="Dropped"/> then holds the final count.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        var dropped = Dropped;
        if (dropped > 0)
        {
            var line = $"{{\"apiVersion\":\"{ApiVersion}\",\"kind\":\"{SummaryKind}\",\"dropped\":{dropped}}}\n";
            try { _stream.Write(Encoding.UTF8.GetBytes(line)); } catch (IOException) { }
        }
        try { _stream.Flush(); } catch (IOException) { }
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The authorizer the request pipeline asks when <c>--record-access</c> is given: the chain's
/// answer unchanged, and every Allow handed to the <see cref="AccessRecorder"/>.
/// </summary>
public sealed class RecordingAuthorizer(IAuthorizer inner, AccessRecorder recorder) : IAuthorizer
{
    public async ValueTask<AuthorizationResult> AuthorizeAsync(AuthorizationAttributes attributes, CancellationToken ct = default)
    {
        var r = await inner.AuthorizeAsync(attributes, ct);
        if (r.Decision == Decision.Allow) recorder.Record(attributes, AccessRecorder.Via(attributes, r));
        return r;
    }
}
