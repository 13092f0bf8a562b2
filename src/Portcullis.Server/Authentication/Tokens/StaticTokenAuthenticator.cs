using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Portcullis.Server.Authentication.Tokens;

/// <summary>
/// <c>--token-auth-file</c>: a CSV of <c>token,user,uid[,"group1,group2"]</c> read as upstream's
/// tokenfile (Go's encoding/csv: quoted fields, no comments, blank lines skipped; a record with
/// fewer than three fields is an error, an empty token is skipped, a repeated token's last record
/// wins). Presented tokens are compared in constant time; an unknown token is NotMine.
/// </summary>
public sealed class StaticTokenAuthenticator : IAuthenticator
{
    private readonly (byte[] Hash, UserInfo User)[] _entries;

    private StaticTokenAuthenticator((byte[], UserInfo)[] entries) => _entries = entries;

    public int Count => _entries.Length;

    /// <exception cref="InvalidDataException">the file is not valid; the message names the file and line, never a token.</exception>
    public static StaticTokenAuthenticator FromFile(string path, List<string>? warnings = null) =>
        Parse(new UTF8Encoding(false).GetString(File.ReadAllBytes(path)), path, warnings);

    /// <summary>Parses the file's contents; <paramref name="warnings"/> collects upstream's warnings (empty or duplicate tokens).</summary>
    public static StaticTokenAuthenticator Parse(string csv, string path, List<string>? warnings = null)
    {
        var tokens = new Dictionary<string, UserInfo>(StringComparer.Ordinal);
        var recordNum = 0;
        foreach (var record in GoCsv.Read(csv))
        {
            if (record.Count < 3)
                throw new InvalidDataException($"token file '{path}' must have at least 3 columns (token, user name, user uid), found {record.Count}");
            recordNum++;
            if (record[0].Length == 0)
            {
                warnings?.Add($"empty token has been found in token file '{path}', record number '{recordNum}'");
                continue;
            }
            if (tokens.ContainsKey(record[0]))
                warnings?.Add($"duplicate token has been found in token file '{path}', record number '{recordNum}'");
            var groups = record.Count >= 4 ? record[3].Split(',').ToList() : [];
            tokens[record[0]] = WithAuthenticatedGroup(new UserInfo(record[1], record[2], groups, UserInfo.NoExtra));
        }
        return new StaticTokenAuthenticator(tokens.Select(kv => (SHA256.HashData(Encoding.UTF8.GetBytes(kv.Key)), kv.Value)).ToArray());
    }

    public ValueTask<AuthenticationResult> AuthenticateAsync(HttpContext context)
    {
        var token = BearerToken.From(context);
        return ValueTask.FromResult(token is null ? AuthenticationResult.NotMine : AuthenticateToken(token));
    }

    /// <summary>Looks a raw token up (also TokenReview's entry point).</summary>
    public AuthenticationResult AuthenticateToken(string token)
    {
        Span<byte> presented = stackalloc byte[32];
        (t_sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256)).HashUtf8(token, presented);
        UserInfo? found = null;
        // Every entry is compared, so the time taken does not depend on which one matches.
        foreach (var (hash, user) in _entries)
            if (CryptographicOperations.FixedTimeEquals(hash, presented)) found = user;
        return found is null ? AuthenticationResult.NotMine : AuthenticationResult.Success(found);
    }

    /// <summary>One SHA-256 context per thread (<see cref="Utf8Hashing"/>).</summary>
    [ThreadStatic] private static IncrementalHash? t_sha256;

    /// <summary>upstream's AuthenticatedGroupAdder.</summary>
    private static UserInfo WithAuthenticatedGroup(UserInfo u)
    {
        if (u.Name == UserInfo.Anonymous) return u;
        if (u.Groups.Any(g => g is UserInfo.AllAuthenticated or UserInfo.AllUnauthenticated)) return u;
        return u with { Groups = [.. u.Groups, UserInfo.AllAuthenticated] };
    }
}

/// <summary>Go's encoding/csv reader with its defaults (comma, no comments, strict quotes, variable field counts).</summary>
internal static class GoCsv
{
    public static IEnumerable<List<string>> Read(string text)
    {
        var pos = 0;
        var line = 0;
        while (pos < text.Length)
        {
            line++;
            var recordLine = line;
            // Blank lines are skipped.
            var eol = LineEnd(text, pos);
            if (eol.ContentEnd == pos) { pos = eol.Next; continue; }

            var fields = new List<string>();
            var sb = new StringBuilder();
            while (true)
            {
                sb.Clear();
                if (pos < text.Length && text[pos] == '"')
                {
                    var col = 1;
                    pos++;
                    while (true)
                    {
                        if (pos >= text.Length)
                            throw new InvalidDataException($"record on line {recordLine}; parse error on line {line + 1}, column 0: extraneous or missing \" in quoted-field");
                        var ch = text[pos];
                        if (ch == '"')
                        {
                            if (pos + 1 < text.Length && text[pos + 1] == '"') { sb.Append('"'); pos += 2; col += 2; continue; }
                            pos++;
                            break;
                        }
                        if (ch == '\r' && pos + 1 < text.Length && text[pos + 1] == '\n') { sb.Append('\n'); pos += 2; line++; col = 0; continue; }
                        if (ch == '\n') line++;
                        sb.Append(ch);
                        pos++;
                        col++;
                    }
                    fields.Add(sb.ToString());
                    var end = LineEnd(text, pos);
                    if (end.ContentEnd == pos) { pos = end.Next; break; }
                    if (text[pos] == ',') { pos++; continue; }
                    throw new InvalidDataException($"record on line {recordLine}; parse error on line {line}, column {pos + 1}: extraneous or missing \" in quoted-field");
                }
                var lineEnd = LineEnd(text, pos);
                var comma = text.IndexOf(',', pos, lineEnd.ContentEnd - pos);
                var fieldEnd = comma < 0 ? lineEnd.ContentEnd : comma;
                var field = text[pos..fieldEnd];
                if (field.Contains('"'))
                    throw new InvalidDataException($"parse error on line {line}, column {field.IndexOf('"') + 1}: bare \" in non-quoted-field");
                fields.Add(field);
                if (comma < 0) { pos = lineEnd.Next; break; }
                pos = comma + 1;
            }
            yield return fields;
        }
    }

    /// <summary>Where the line starting at or containing <paramref name="pos"/> ends (before \r\n or \n) and the next begins.</summary>
    private static (int ContentEnd, int Next) LineEnd(string text, int pos)
    {
        var nl = text.IndexOf('\n', pos);
        if (nl < 0) return (text.Length, text.Length);
        var contentEnd = nl > pos && text[nl - 1] == '\r' ? nl - 1 : nl;
        return (contentEnd, nl + 1);
    }
}
