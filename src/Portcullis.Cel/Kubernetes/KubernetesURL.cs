using System.Text;

namespace Portcullis.Cel;

/// <summary>CEL's kubernetes.URL (apiserver pkg/cel/url.go): a URL as Go's net/url parses it.</summary>
public sealed class CelURL : CelOpaque
{
    public static readonly CelType URLType = new("kubernetes.URL");

    internal string Scheme = "", Opaque = "", User = "", Host = "", Path = "", RawPath = "", RawQuery = "", Fragment = "";
    internal bool ForceQuery, HasUser;

    public override CelType Type => URLType;
    public override bool EqualTo(CelValue other) => other is CelURL u && u.Text == Text;
    public override string ToString() => $"url(\"{Text}\")";

    /// <summary>Close to URL.String (enough to tell URLs apart for equality).</summary>
    public string Text
    {
        get
        {
            var sb = new StringBuilder();
            if (Scheme.Length > 0) sb.Append(Scheme).Append(':');
            if (Opaque.Length > 0) sb.Append(Opaque);
            else
            {
                if (Scheme.Length > 0 || Host.Length > 0 || HasUser)
                {
                    if (Host.Length > 0 || Path.Length > 0 || HasUser) sb.Append("//");
                    if (HasUser) sb.Append(User).Append('@');
                    sb.Append(Host);
                }
                sb.Append(GoUrl.EscapedPath(Path, RawPath));
            }
            if (ForceQuery || RawQuery.Length > 0) sb.Append('?').Append(RawQuery);
            if (Fragment.Length > 0) sb.Append('#').Append(Fragment);
            return sb.ToString();
        }
    }
}

/// <summary>The parts of Go's net/url (1.24) the url library uses: Parse, ParseRequestURI, Hostname, Port,
/// EscapedPath, Query, with their error texts.</summary>
internal static class GoUrl
{
    enum Mode { Path, Host, Zone, UserPassword, QueryComponent, Fragment }

    sealed class UrlException(string message) : Exception(message);

    /// <summary>url.ParseRequestURI (viaRequest) or url.Parse; null with the error text.</summary>
    public static CelURL? Parse(string raw, bool viaRequest, out string? error)
    {
        error = null;
        try
        {
            if (viaRequest) return ParseCore(raw, true);
            int hash = raw.IndexOf('#');
            var u = ParseCore(hash < 0 ? raw : raw[..hash], false, hash < 0 ? raw : raw[..hash]);
            if (hash >= 0)
            {
                string frag = raw[(hash + 1)..];
                try { u.Fragment = Unescape(frag, Mode.Fragment); }
                catch (UrlException e) { throw new UrlException($"parse {Ext.Quote(raw)}: {e.Message}"); }
            }
            return u;
        }
        catch (UrlException e)
        {
            error = e.Message;
            return null;
        }
    }

    static CelURL ParseCore(string raw, bool viaRequest, string? forError = null)
    {
        try { return ParseInner(raw, viaRequest); }
        catch (UrlException e) { throw new UrlException($"parse {Ext.Quote(forError ?? raw)}: {e.Message}"); }
    }

    static CelURL ParseInner(string raw, bool viaRequest)
    {
        foreach (char c in raw)
            if (c < ' ' || c == 0x7f) throw new UrlException("net/url: invalid control character in URL");
        if (raw.Length == 0 && viaRequest) throw new UrlException("empty url");
        var url = new CelURL();
        if (raw == "*") { url.Path = "*"; return url; }
        var (scheme, rest) = GetScheme(raw);
        url.Scheme = scheme.ToLowerInvariant();
        if (rest.EndsWith('?') && rest.Count(c => c == '?') == 1)
        {
            url.ForceQuery = true;
            rest = rest[..^1];
        }
        else
        {
            int q = rest.IndexOf('?');
            if (q >= 0) { url.RawQuery = rest[(q + 1)..]; rest = rest[..q]; }
        }
        if (!rest.StartsWith('/'))
        {
            if (url.Scheme.Length > 0) { url.Opaque = rest; return url; }
            if (viaRequest) throw new UrlException("invalid URI for request");
            int slash = rest.IndexOf('/');
            if ((slash < 0 ? rest : rest[..slash]).Contains(':')) throw new UrlException("first path segment in URL cannot contain colon");
        }
        if ((url.Scheme.Length > 0 || !viaRequest && !rest.StartsWith("///", StringComparison.Ordinal)) && rest.StartsWith("//", StringComparison.Ordinal))
        {
            string authority = rest[2..];
            rest = "";
            int i = authority.IndexOf('/');
            if (i >= 0) { rest = authority[i..]; authority = authority[..i]; }
            ParseAuthority(authority, url);
        }
        string path = Unescape(rest, Mode.Path);
        url.Path = path;
        url.RawPath = Escape(path, Mode.Path) == rest ? "" : rest;
        return url;
    }

    static (string Scheme, string Remainder) GetScheme(string raw)
    {
        for (int i = 0; i < raw.Length; i++)
        {
            char c = raw[i];
            if (char.IsAsciiLetter(c)) continue;
            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0) return ("", raw);
                continue;
            }
            if (c == ':')
            {
                if (i == 0) throw new UrlException("missing protocol scheme");
                return (raw[..i], raw[(i + 1)..]);
            }
            return ("", raw);
        }
        return ("", raw);
    }

    static void ParseAuthority(string authority, CelURL url)
    {
        int at = authority.LastIndexOf('@');
        url.Host = ParseHost(at < 0 ? authority : authority[(at + 1)..]);
        if (at < 0) return;
        string userinfo = authority[..at];
        foreach (char r in userinfo)
            if (!char.IsAsciiLetterOrDigit(r) && "-._:~!$&'()*+,;=%@".IndexOf(r) < 0) throw new UrlException("net/url: invalid userinfo");
        int colon = userinfo.IndexOf(':');
        Unescape(colon < 0 ? userinfo : userinfo[..colon], Mode.UserPassword);
        if (colon >= 0) Unescape(userinfo[(colon + 1)..], Mode.UserPassword);
        url.HasUser = true;
        url.User = userinfo;
    }

    static bool ValidOptionalPort(string port)
    {
        if (port.Length == 0) return true;
        if (port[0] != ':') return false;
        foreach (char b in port.AsSpan(1)) if (b is < '0' or > '9') return false;
        return true;
    }

    static string ParseHost(string host)
    {
        if (host.StartsWith('['))
        {
            int i = host.LastIndexOf(']');
            if (i < 0) throw new UrlException("missing ']' in host");
            string colonPort = host[(i + 1)..];
            if (!ValidOptionalPort(colonPort)) throw new UrlException($"invalid port {Ext.Quote(colonPort)} after host");
            int zone = host[..i].IndexOf("%25", StringComparison.Ordinal);
            if (zone >= 0)
                return Unescape(host[..zone], Mode.Host) + Unescape(host[zone..i], Mode.Zone) + Unescape(host[i..], Mode.Host);
        }
        else
        {
            int i = host.LastIndexOf(':');
            if (i != -1)
            {
                string colonPort = host[i..];
                if (!ValidOptionalPort(colonPort)) throw new UrlException($"invalid port {Ext.Quote(colonPort)} after host");
            }
        }
        return Unescape(host, Mode.Host);
    }

    static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    static int Unhex(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    static bool ShouldEscape(byte c, Mode mode)
    {
        if (char.IsAsciiLetterOrDigit((char)c)) return false;
        if (mode is Mode.Host or Mode.Zone && "!$&'()*+,;=:[]<>\"".IndexOf((char)c) >= 0) return false;
        switch ((char)c)
        {
            case '-' or '_' or '.' or '~': return false;
            case '$' or '&' or '+' or ',' or '/' or ':' or ';' or '=' or '?' or '@':
                switch (mode)
                {
                    case Mode.Path: return c == '?';
                    case Mode.UserPassword: return c is (byte)'@' or (byte)'/' or (byte)'?' or (byte)':';
                    case Mode.QueryComponent: return true;
                    case Mode.Fragment: return false;
                }
                break;
        }
        if (mode == Mode.Fragment && c is (byte)'!' or (byte)'(' or (byte)')' or (byte)'*') return false;
        return true;
    }

    /// <summary>url.unescape: %XX decoded (bytes, then UTF-8); '+' a space in query components; host rules.</summary>
    static string Unescape(string s, Mode mode)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        var outp = new List<byte>(bytes.Length);
        for (int i = 0; i < bytes.Length;)
        {
            byte b = bytes[i];
            if (b == '%')
            {
                if (i + 2 >= bytes.Length || !IsHex((char)bytes[i + 1]) || !IsHex((char)bytes[i + 2]))
                {
                    var bad = Encoding.UTF8.GetString(bytes, i, Math.Min(3, bytes.Length - i));
                    throw new UrlException("invalid URL escape " + Ext.Quote(bad));
                }
                string three = Encoding.UTF8.GetString(bytes, i, 3);
                if (mode == Mode.Host && Unhex((char)bytes[i + 1]) < 8 && three != "%25")
                    throw new UrlException("invalid URL escape " + Ext.Quote(three));
                if (mode == Mode.Zone)
                {
                    byte v0 = (byte)(Unhex((char)bytes[i + 1]) << 4 | Unhex((char)bytes[i + 2]));
                    if (three != "%25" && v0 != ' ' && ShouldEscape(v0, Mode.Host)) throw new UrlException("invalid URL escape " + Ext.Quote(three));
                }
                outp.Add((byte)(Unhex((char)bytes[i + 1]) << 4 | Unhex((char)bytes[i + 2])));
                i += 3;
                continue;
            }
            if (b == '+' && mode == Mode.QueryComponent) { outp.Add((byte)' '); i++; continue; }
            if (mode is Mode.Host or Mode.Zone && b < 0x80 && ShouldEscape(b, mode))
                throw new UrlException($"invalid character {Ext.Quote(((char)b).ToString())} in host name");
            outp.Add(b);
            i++;
        }
        return Encoding.UTF8.GetString(outp.ToArray());
    }

    static string Escape(string s, Mode mode)
    {
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            if (ShouldEscape(b, mode))
            {
                if (b == ' ' && mode == Mode.QueryComponent) sb.Append('+');
                else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else sb.Append((char)b);
        }
        return sb.ToString();
    }

    static bool ValidEncoded(string s, Mode mode)
    {
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            if ("!$&'()*+,;=:@[]%".IndexOf((char)b) >= 0 && b < 0x80) continue;
            if (ShouldEscape(b, mode)) return false;
        }
        return true;
    }

    /// <summary>URL.EscapedPath.</summary>
    public static string EscapedPath(string path, string rawPath)
    {
        if (rawPath.Length > 0 && ValidEncoded(rawPath, Mode.Path))
        {
            try { if (Unescape(rawPath, Mode.Path) == path) return rawPath; }
            catch (UrlException) { }
        }
        if (path == "*") return "*";
        return Escape(path, Mode.Path);
    }

    /// <summary>splitHostPort: (hostname without brackets, port).</summary>
    public static (string Host, string Port) SplitHostPort(string hostPort)
    {
        string host = hostPort, port = "";
        int colon = host.LastIndexOf(':');
        if (colon != -1 && ValidOptionalPort(host[colon..])) { port = host[(colon + 1)..]; host = host[..colon]; }
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return (host, port);
    }

    /// <summary>url.ParseQuery, errors skipped as URL.Query does: key to values, in order.</summary>
    public static CelMap Query(string rawQuery)
    {
        var keys = new List<string>();
        var values = new Dictionary<string, List<CelValue>>(StringComparer.Ordinal);
        string query = rawQuery;
        while (query.Length > 0)
        {
            int amp = query.IndexOf('&');
            string key = amp < 0 ? query : query[..amp];
            query = amp < 0 ? "" : query[(amp + 1)..];
            if (key.Contains(';') || key.Length == 0) continue;
            int eq = key.IndexOf('=');
            string value = eq < 0 ? "" : key[(eq + 1)..];
            if (eq >= 0) key = key[..eq];
            try
            {
                key = Unescape(key, Mode.QueryComponent);
                value = Unescape(value, Mode.QueryComponent);
            }
            catch (UrlException) { continue; }
            if (!values.TryGetValue(key, out var list)) { values[key] = list = []; keys.Add(key); }
            list.Add(new CelString(value));
        }
        var m = new CelMap();
        foreach (var k in keys) m.TryAdd(new CelString(k), new CelList(values[k]));
        return m;
    }
}

/// <summary>urls.go (kubernetes.urls).</summary>
internal static class KubernetesURLs
{
    public static void Add(CelEnvironment env)
    {
        const string U = "kubernetes.URL";
        env.DeclareType(CelURL.URLType);
        env.DeclareFunction($"url(string) -> {U}");
        foreach (var f in new[] { "getScheme", "getHost", "getHostname", "getPort", "getEscapedPath" })
            env.DeclareFunction($"{U}.{f}() -> string");
        env.DeclareFunction($"{U}.getQuery() -> map(string, list(string))");
        env.DeclareFunction("isURL(string) -> bool");

        env.AddFunction("url", a =>
        {
            if (a.Length != 1 || a[0] is not CelString s) return null;
            // ParseRequestURI checks (absolute URI or absolute path); Parse gives the parts (fragment apart)
            if (GoUrl.Parse(s.Value, viaRequest: true, out var err) is null || GoUrl.Parse(s.Value, viaRequest: false, out err) is not { } u)
                return new CelError("URL parse error during conversion from string: " + err);
            return u;
        });
        env.AddFunction("isURL", a => a.Length == 1 && a[0] is CelString s ? CelBool.Of(GoUrl.Parse(s.Value, true, out _) is not null) : null);
        env.AddMemberFunction("getScheme", a => a.Length == 1 && a[0] is CelURL u ? new CelString(u.Scheme) : null);
        env.AddMemberFunction("getHost", a => a.Length == 1 && a[0] is CelURL u ? new CelString(u.Host) : null);
        env.AddMemberFunction("getHostname", a => a.Length == 1 && a[0] is CelURL u ? new CelString(GoUrl.SplitHostPort(u.Host).Host) : null);
        env.AddMemberFunction("getPort", a => a.Length == 1 && a[0] is CelURL u ? new CelString(GoUrl.SplitHostPort(u.Host).Port) : null);
        env.AddMemberFunction("getEscapedPath", a => a.Length == 1 && a[0] is CelURL u ? new CelString(GoUrl.EscapedPath(u.Path, u.RawPath)) : null);
        env.AddMemberFunction("getQuery", a => a.Length == 1 && a[0] is CelURL u ? GoUrl.Query(u.RawQuery) : null);
    }
}
