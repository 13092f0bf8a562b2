using System.Globalization;
using System.Text;

namespace Portcullis.Server.Controllers.Node.Runtime;

/// <summary>What <c>pods/log</c> asks for (PodLogOptions), after validation.</summary>
public sealed record LogOptions(bool Follow = false, bool Timestamps = false, long? TailLines = null, DateTimeOffset? Since = null, long? LimitBytes = null);

/// <summary>
/// One container instance's log file in the CRI format the kubelet reads
/// (<c>2016-10-06T00:17:09.669794202Z stdout F line</c>): every line carries its time and stream,
/// and <c>P</c> marks a piece of a line longer than 16 KiB. The writer wakes followers.
/// </summary>
public sealed class ContainerLog
{
    private const int MaxLine = 16 * 1024;
    private readonly object _gate = new();
    private readonly StringBuilder[] _partial = [new(), new()];
    private readonly Decoder[] _decoders = [Encoding.UTF8.GetDecoder(), Encoding.UTF8.GetDecoder()];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time;
    private bool _closed;

    public string Path { get; }

    public ContainerLog(string path, TimeProvider time)
    {
        Path = path;
        _time = time;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
    }

    /// <summary>The container instance ended: followers finish once they have read everything.</summary>
    public bool Closed { get { lock (_gate) return _closed; } }

    /// <summary>Appends output of one stream (0 stdout, 1 stderr); whole lines are written at once.</summary>
    public void Append(int stream, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            // A stateful decoder per stream: a character split across two reads stays whole.
            var chars = new char[_decoders[stream].GetCharCount(data, flush: false)];
            var text = chars.AsSpan(0, _decoders[stream].GetChars(data, chars, flush: false));
            var sb = _partial[stream];
            var output = new StringBuilder();
            var now = _time.GetUtcNow();
            foreach (var ch in text)
            {
                if (ch == '\n')
                {
                    output.Append(Line(now, stream, 'F', sb.ToString()));
                    sb.Clear();
                    continue;
                }
                sb.Append(ch);
                if (sb.Length >= MaxLine)
                {
                    output.Append(Line(now, stream, 'P', sb.ToString()));
                    sb.Clear();
                }
            }
            if (output.Length > 0) WriteLocked(output.ToString());
        }
    }

    /// <summary>Flushes unterminated lines and wakes followers for the last time.</summary>
    public void Close()
    {
        lock (_gate)
        {
            if (_closed) return;
            var now = _time.GetUtcNow();
            var output = new StringBuilder();
            for (var s = 0; s < 2; s++)
                if (_partial[s].Length > 0)
                {
                    output.Append(Line(now, s, 'F', _partial[s].ToString()));
                    _partial[s].Clear();
                }
            if (output.Length > 0) File.AppendAllText(Path, output.ToString());
            _closed = true;
            _changed.TrySetResult();
        }
    }

    private void WriteLocked(string s)
    {
        File.AppendAllText(Path, s);
        var old = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.TrySetResult();
    }

    private static string Line(DateTimeOffset t, int stream, char tag, string content) =>
        $"{FormatTime(t)} {(stream == 0 ? "stdout" : "stderr")} {tag} {content}\n";

    /// <summary>RFC 3339 with nine fractional digits, as the kubelet prints timestamps.</summary>
    public static string FormatTime(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffff", CultureInfo.InvariantCulture) + "00Z";

    private Task ChangedTask { get { lock (_gate) return _changed.Task; } }

    /// <summary>A parsed CRI line.</summary>
    public readonly record struct Entry(DateTimeOffset Time, string Stream, bool Partial, string Content);

    public static bool TryParse(string line, out Entry e)
    {
        e = default;
        var a = line.IndexOf(' ');
        if (a < 0) return false;
        var b = line.IndexOf(' ', a + 1);
        if (b < 0) return false;
        var c = line.IndexOf(' ', b + 1);
        var tag = c < 0 ? line[(b + 1)..] : line[(b + 1)..c];
        var content = c < 0 ? "" : line[(c + 1)..];
        if (!DateTimeOffset.TryParse(line[..a], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return false;
        e = new Entry(t, line[(a + 1)..b], tag == "P", content);
        return true;
    }

    /// <summary>
    /// Writes the log as the kubelet's ReadLogs does: since, tail, timestamps, limitBytes, and with
    /// follow, waits for new lines until the container instance ends or the caller goes away.
    /// </summary>
    public async Task CopyToAsync(Stream output, LogOptions o, CancellationToken ct)
    {
        long written = 0;
        bool Limited() => o.LimitBytes is { } l && written >= l;
        async Task Emit(Entry e)
        {
            var text = (o.Timestamps ? FormatTime(e.Time) + " " : "") + e.Content + (e.Partial ? "" : "\n");
            var bytes = Encoding.UTF8.GetBytes(text);
            var n = o.LimitBytes is { } l ? (int)Math.Min(bytes.Length, l - written) : bytes.Length;
            await output.WriteAsync(bytes.AsMemory(0, n), ct);
            written += n;
        }

        await using var fs = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var reader = new LineReader(fs);
        // The existing content, with since and tail applied.
        var first = new List<Entry>();
        while (reader.TryReadLine(out var line))
            if (TryParse(line, out var e) && (o.Since is null || e.Time >= o.Since)) first.Add(e);
        if (o.TailLines is { } tail)
        {
            // Count whole lines from the end: a line's partial pieces belong to it.
            var keep = 0;
            var lines = 0;
            for (var i = first.Count - 1; i >= 0; i--)
            {
                if (!first[i].Partial) lines++;
                if (lines > tail) break;
                keep++;
            }
            first = first.GetRange(first.Count - keep, keep);
        }
        foreach (var e in first)
        {
            if (Limited()) return;
            await Emit(e);
        }
        await output.FlushAsync(ct);
        if (!o.Follow) return;
        while (!Limited())
        {
            var changed = ChangedTask;
            var closed = Closed;
            var any = false;
            while (reader.TryReadLine(out var line))
            {
                if (!TryParse(line, out var e)) continue;
                if (Limited()) return;
                await Emit(e);
                any = true;
            }
            if (any) await output.FlushAsync(ct);
            if (closed) return;
            await changed.WaitAsync(ct);
        }
    }

    /// <summary>Reads complete lines from a growing file; a line without its newline yet waits for the next call.</summary>
    private sealed class LineReader(FileStream fs)
    {
        private readonly List<byte> _pending = [];
        private readonly byte[] _buf = new byte[64 * 1024];
        private int _bufLen, _bufPos;

        public bool TryReadLine(out string line)
        {
            while (true)
            {
                for (; _bufPos < _bufLen; _bufPos++)
                {
                    var b = _buf[_bufPos];
                    if (b == (byte)'\n')
                    {
                        _bufPos++;
                        line = Encoding.UTF8.GetString(_pending.ToArray());
                        _pending.Clear();
                        return true;
                    }
                    _pending.Add(b);
                }
                _bufLen = fs.Read(_buf, 0, _buf.Length);
                _bufPos = 0;
                if (_bufLen == 0)
                {
                    line = "";
                    return false;
                }
            }
        }
    }
}
