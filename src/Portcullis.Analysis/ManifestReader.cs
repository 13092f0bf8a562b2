using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Server.Serialization;

namespace Portcullis.Analysis;

/// <summary>A manifest that cannot be read; the message is one line and names the file.</summary>
public sealed class ManifestException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads Kubernetes objects from manifests: a file, a directory walked recursively for
/// <c>*.yaml</c>, <c>*.yml</c> and <c>*.json</c> (in ordinal path order), or <c>-</c> for standard
/// input. YAML files may hold several documents (split on <c>---</c> lines as apimachinery's
/// YAMLReader does), each converted with the server's own YAML reader; JSON is read with the
/// server's JSON parser. A <c>List</c> (<c>kind: List</c>, or any kind ending in <c>List</c> with
/// <c>items</c>) is flattened into its items. Empty documents are skipped.
/// </summary>
public static class ManifestReader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>The objects of every path, in order; <paramref name="stdin"/> is read for <c>-</c> (once).</summary>
    /// <exception cref="ManifestException">a path that does not exist or a document that cannot be read.</exception>
    public static List<JsonObject> Read(IEnumerable<string> paths, TextReader? stdin = null) => Stream(paths, stdin).ToList();

    /// <summary>
    /// As <see cref="Read"/>, one object at a time: a file is read whole, but the items of a JSON
    /// <c>List</c> are parsed one by one as they are asked for, so a caller that keeps only what it
    /// needs of each never holds every object's tree at once.
    /// </summary>
    public static IEnumerable<JsonObject> Stream(IEnumerable<string> paths, TextReader? stdin = null)
    {
        var stdinRead = false;
        foreach (var path in paths)
        {
            if (path == "-")
            {
                if (stdinRead) continue;
                stdinRead = true;
                var text = (stdin ?? Console.In).ReadToEnd();
                var trimmed = text.TrimStart();
                foreach (var o in Objects(Encoding.UTF8.GetBytes(text), "<stdin>", json: trimmed.StartsWith('{') || trimmed.StartsWith('['))) yield return o;
            }
            else if (Directory.Exists(path))
            {
                List<string> files;
                try
                {
                    files = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
                        .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                        .Order(StringComparer.Ordinal).ToList();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ManifestException($"{path}: {e.Message}", e); }
                foreach (var f in files)
                    foreach (var o in ReadFile(f)) yield return o;
            }
            else if (File.Exists(path))
            {
                foreach (var o in ReadFile(path)) yield return o;
            }
            else throw new ManifestException($"{path}: no such file or directory");
        }
    }

    private static IEnumerable<JsonObject> ReadFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ManifestException($"{path}: {e.Message}", e); }
        return Objects(bytes, path, json: string.Equals(Path.GetExtension(path), ".json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The objects in one file's content; <paramref name="source"/> names it in errors.</summary>
    public static List<JsonObject> Parse(byte[] content, string source, bool json) => Objects(content, source, json).ToList();

    private static IEnumerable<JsonObject> Objects(byte[] content, string source, bool json)
    {
        if (json)
        {
            if (ListItems(content) is { } items)
            {
                foreach (var (start, length) in items)
                {
                    JsonNode? item;
                    try { item = JsonParser.Parse(content.AsSpan(start, length)); }
                    catch (JsonException) { item = ParseWhole(content, source); } // the whole document's error, as without streaming
                    if (item is not JsonObject io) throw new ManifestException($"{source}: document 1: a list item is not an object");
                    yield return io;
                }
                yield break;
            }
            foreach (var o in Flatten(ParseWhole(content, source), source, 1)) yield return o;
            yield break;
        }
        var doc = 0;
        foreach (var text in SplitYamlDocuments(content, source))
        {
            doc++;
            JsonNode? node;
            try { node = YamlCodec.ToJson(text); }
            catch (FormatException e) { throw new ManifestException($"{source}: document {doc}: {OneLine(e.Message)}", e); }
            foreach (var o in Flatten(node, source, doc)) yield return o;
        }
    }

    private static JsonNode? ParseWhole(byte[] content, string source)
    {
        try { return JsonParser.Parse(content); }
        catch (JsonException e) { throw new ManifestException($"{source}: {OneLine(e.Message)}", e); }
    }

    /// <summary>
    /// Where each item of a JSON <c>List</c> lies (offset and length), when the whole content is
    /// one well-formed object whose kind ends in <c>List</c> and whose <c>items</c> is an array;
    /// null otherwise (the content is then parsed whole, errors included).
    /// </summary>
    private static List<(int Start, int Length)>? ListItems(byte[] content)
    {
        try
        {
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = JsonParser.MaxDepth }); // deeper: parsed whole, for the parser's own message
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            string? kind = null;
            List<(int, int)>? items = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                if (name == "kind" && reader.TokenType == JsonTokenType.String) kind = reader.GetString();
                else if (name == "items" && reader.TokenType == JsonTokenType.StartArray)
                {
                    items = [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        items.Add((start, (int)reader.BytesConsumed - start));
                    }
                }
                else reader.Skip();
            }
            if (reader.Read()) return null; // something after the top-level value: let the parser say what
            return kind is not null && kind.EndsWith("List", StringComparison.Ordinal) && items is not null ? items : null;
        }
        catch (JsonException) { return null; }
    }

    private static IEnumerable<JsonObject> Flatten(JsonNode? node, string source, int doc)
    {
        switch (node)
        {
            case null:
                yield break; // an empty document (only comments, or nothing)
            case JsonObject o when o["items"] is JsonArray items && KindOf(o).EndsWith("List", StringComparison.Ordinal):
                foreach (var item in items)
                {
                    if (item is not JsonObject io) throw new ManifestException($"{source}: document {doc}: a list item is not an object");
                    yield return io;
                }
                yield break;
            case JsonObject o:
                yield return o;
                yield break;
            default:
                throw new ManifestException($"{source}: document {doc}: not an object");
        }
    }

    private static string KindOf(JsonObject o) => o["kind"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";

    /// <summary>
    /// Documents as apimachinery's YAMLReader splits them: a line starting with <c>---</c> ends a
    /// document; only spaces or a comment may follow the separator on its line.
    /// </summary>
    private static IEnumerable<byte[]> SplitYamlDocuments(byte[] content, string source)
    {
        var current = new MemoryStream();
        var start = 0;
        while (start < content.Length)
        {
            var nl = Array.IndexOf(content, (byte)'\n', start);
            var end = nl < 0 ? content.Length : nl + 1;
            var line = content.AsSpan(start, end - start);
            if (line.StartsWith("---"u8))
            {
                var rest = Encoding.UTF8.GetString(line[3..]).Trim();
                if (rest.Length > 0 && rest[0] != '#')
                    throw new ManifestException($"{source}: invalid Yaml document separator: {rest}");
                if (current.Length > 0) yield return current.ToArray();
                current = new MemoryStream();
            }
            else current.Write(line);
            start = end;
        }
        if (current.Length > 0) yield return current.ToArray();
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
