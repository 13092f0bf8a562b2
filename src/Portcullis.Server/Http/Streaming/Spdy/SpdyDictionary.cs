namespace Portcullis.Server.Http.Streaming.Spdy;

/// <summary>
/// The zlib dictionary of SPDY/3 header blocks (draft-mbelshe-httpbis-spdy-00 §2.6.10.1; the
/// <c>headerDictionary</c> of moby/spdystream's spdy/dictionary.go, which client-go and the kubelet use):
/// 65 words each after its 4-byte big-endian length, then common values run together. 1423 bytes,
/// Adler-32 0xe3c6a7c2 (the DICTID a client's first header block names).
/// </summary>
internal static class SpdyDictionary
{
    private static readonly string[] Words =
    [
        "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
        "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
        "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
        "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
        "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
        "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
        "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
        "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
        "set-cookie", "keep-alive", "origin"
    ];

    private const string Tail =
        "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
        + "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Una"
        + "uthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service"
        + " UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, "
        + "Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,applicat"
        + "ion/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf"
        + "-8charset=iso-8859-1,utf-,*,enq=0.";

    /// <summary>The dictionary's bytes.</summary>
    public static byte[] Bytes { get; } = Build();

    /// <summary>Its Adler-32, as a zlib header's DICTID carries it.</summary>
    public const uint Adler32 = 0xe3c6a7c2;

    private static byte[] Build()
    {
        var buf = new List<byte>(1423);
        foreach (var w in Words)
        {
            var n = w.Length;
            buf.AddRange([(byte)(n >> 24), (byte)(n >> 16), (byte)(n >> 8), (byte)n]);
            buf.AddRange(System.Text.Encoding.ASCII.GetBytes(w));
        }
        buf.AddRange(System.Text.Encoding.ASCII.GetBytes(Tail));
        return buf.ToArray();
    }
}
